import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim } from './index.js';

const text = { messaging_product: 'whatsapp', to: '905551112233', type: 'text', text: { body: 'Merhaba' } };
const bearer = { authorization: 'Bearer k1' };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(knobs: Record<string, unknown> = { statusCallbacks: false }): Promise<CbotSim> {
  const sim = await startCbotSim({ api: 'cloud', apiKey: 'k1', knobs });
  cleanups.push(() => sim.close());
  return sim;
}

async function post(sim: CbotSim, path: string, body: unknown, headers: Record<string, string> = bearer) {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
}

describe('the simulator playing the Cloud API', () => {
  it('takes POST /messages with messaging_product and answers the Cloud success shape', async () => {
    const sim = await start();
    const res = await post(sim, 'messages', text);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ messaging_product: 'whatsapp', contacts: [{ input: '905551112233', wa_id: '905551112233' }], messages: [{ id: expect.stringMatching(/^wamid\./) }] });
    expect(sim.received()[0]?.body).toEqual(text);
  });

  it('has no On-Premises path and wants messaging_product', async () => {
    const sim = await start();
    expect((await post(sim, 'v1/messages', text)).status).toBe(404);
    const { messaging_product: _, ...onprem } = text;
    const res = await post(sim, 'messages', onprem);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 100, error_data: { details: expect.stringContaining('messaging_product') } });
    expect(sim.received()).toHaveLength(0);
  });

  it('answers failures with Graph error bodies, throttling as HTTP 400 with code 130429', async () => {
    const sim = await start();
    expect((await post(sim, 'messages', text, { authorization: 'Bearer nope' })).json.error.code).toBe(190);
    sim.failNext(429, 1);
    const throttled = await post(sim, 'messages', text);
    expect(throttled.status).toBe(400);
    expect(throttled.json.error).toMatchObject({ code: 130429, type: 'OAuthException' });
    sim.failNext(500, 1);
    const down = await post(sim, 'messages', text);
    expect(down).toMatchObject({ status: 500, json: { error: { code: 131000 } } });
  });

  it('posts status callbacks in the Cloud envelope', async () => {
    const bodies: any[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        bodies.push(JSON.parse(raw));
        res.writeHead(200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const sim = await start({ statusCallbacks: true, statusDelaysMs: [0, 0, 0] });
    sim.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    const sent = await post(sim, 'messages', text);
    await expect.poll(() => bodies.length).toBe(3);
    const value = bodies[0].entry[0].changes[0].value;
    expect(bodies[0].object).toBe('whatsapp_business_account');
    expect(value).toMatchObject({ messaging_product: 'whatsapp', statuses: [{ id: sent.json.messages[0].id, status: 'sent', recipient_id: '905551112233' }] });
    expect(value.statuses[0]).not.toHaveProperty('biz_opaque_callback_data');
    // A send's biz_opaque_callback_data comes back in each of its statuses, as Cloud does.
    await post(sim, 'messages', { ...text, biz_opaque_callback_data: 'relay-id-1' });
    await expect.poll(() => bodies.length).toBe(6);
    const opaque = bodies.slice(3).map((b) => b.entry[0].changes[0].value.statuses[0]);
    expect(opaque.map((st) => [st.status, st.biz_opaque_callback_data])).toEqual([['sent', 'relay-id-1'], ['delivered', 'relay-id-1'], ['read', 'relay-id-1']]);
  });
});
