import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim } from './cbot-sim.js';
import type { CbotSim } from './cbot-sim.js';

let sim: CbotSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const auth = { authorization: 'Bearer k' };

describe('simulator media', () => {
  it('On-Premises: stores a raw upload and serves it with its type and length, counting look-ups and misses', async () => {
    sim = await startCbotSim({ apiKey: 'k' });
    const up = await fetch(`${sim.url}v1/media`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: 'png-bytes' });
    expect(up.status).toBe(201);
    const id = ((await up.json()) as { media: { id: string }[] }).media[0]!.id;
    const got = await fetch(`${sim.url}v1/media/${id}`, { headers: auth });
    expect([got.status, got.headers.get('content-type'), got.headers.get('content-length'), await got.text()]).toEqual([200, 'image/png', '9', 'png-bytes']);
    expect((await fetch(`${sim.url}v1/media/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${sim.url}v1/media/${id}`)).status).toBe(401);
    expect(sim.media()).toEqual({ uploads: 1, bytesReceived: 9, lookups: 2, notFound: 1, downloads: 1 });
  });

  it('Cloud: takes multipart with messaging_product, answers look-ups with a URL (on mediaUrlBase when set) that serves the bytes', async () => {
    sim = await startCbotSim({ apiKey: 'k', api: 'cloud' });
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('file', new Blob(['%PDF'], { type: 'application/pdf' }), 'a.pdf');
    const up = await fetch(`${sim.url}media`, { method: 'POST', headers: auth, body: form });
    const { id } = (await up.json()) as { id: string };
    const info = (await (await fetch(`${sim.url}${id}`, { headers: auth })).json()) as { url: string; mime_type: string; file_size: number };
    expect(info).toMatchObject({ mime_type: 'application/pdf', file_size: 4 });
    expect(await (await fetch(info.url, { headers: auth })).text()).toBe('%PDF');
    sim.setKnobs({ mediaUrlBase: 'https://lookaside.example/' });
    const moved = (await (await fetch(`${sim.url}${id}`, { headers: auth })).json()) as { url: string };
    expect(moved.url).toMatch(/^https:\/\/lookaside\.example\/whatsapp_business\/attachments\/\?mid=/);
    const noProduct = new FormData();
    noProduct.set('file', new Blob(['x'], { type: 'image/png' }), 'x.png');
    expect((await fetch(`${sim.url}media`, { method: 'POST', headers: auth, body: noProduct })).status).toBe(400);
    expect((await fetch(`${sim.url}123456`, { headers: auth })).status).toBe(404);
  });
});
