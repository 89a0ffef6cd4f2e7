import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCbotSim, type CbotSim } from './index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A webhook that keeps every JSON body it is posted. */
async function receiver(): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(raw));
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

async function start(api: 'onprem' | 'cloud'): Promise<CbotSim> {
  const sim = await startCbotSim({ api, apiKey: 'k1', knobs: { statusCallbacks: false, statusDelaysMs: [0, 0, 0] } });
  cleanups.push(() => sim.close());
  return sim;
}

async function send(sim: CbotSim, api: 'onprem' | 'cloud') {
  const body = { ...(api === 'cloud' ? { messaging_product: 'whatsapp' } : {}), to: '905551112233', type: 'text', text: { body: 'x' } };
  const res = await fetch(`${sim.url}${api === 'cloud' ? 'messages' : 'v1/messages'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k1' },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as any };
}

const CODES = [131048, 368, 131031, 131056, 130429];

describe.each(['onprem', 'cloud'] as const)('fail-next by WhatsApp code (%s)', (api) => {
  it.each(CODES)('answers %i as the send’s error, HTTP 400 in the API’s body shape', async (code) => {
    const sim = await start(api);
    const ctl = await fetch(`${sim.url}_sim/fail-next`, { method: 'POST', body: JSON.stringify({ code, count: 1, retryAfter: 3 }) });
    expect(await ctl.json()).toEqual({ failNext: [{ code, mode: 'answer', retryAfter: 3, count: 1 }] });
    const res = await send(sim, api);
    expect(res.status).toBe(400);
    expect(res.retryAfter).toBe('3');
    if (api === 'cloud') expect(res.json.error).toMatchObject({ code, type: 'OAuthException' });
    else expect(res.json.errors[0]).toMatchObject({ code });
    expect((await send(sim, api)).status).toBe(200);
  });

  it.each(CODES)('accepts with 200 and then reports %i in a failed status callback', async (code) => {
    const sim = await start(api);
    const hook = await receiver();
    sim.setWebhook(hook.url);
    sim.failNextCode(code, 1, { mode: 'callback' });
    const res = await send(sim, api);
    expect(res.status).toBe(200);
    const wamid: string = res.json.messages[0].id;
    await vi.waitFor(() => expect(hook.bodies).toHaveLength(1));
    const payload = hook.bodies[0] as any;
    const statuses = api === 'cloud' ? payload.entry[0].changes[0].value.statuses : payload.statuses;
    expect(statuses).toEqual([expect.objectContaining({ id: wamid, status: 'failed', recipient_id: '905551112233', errors: [expect.objectContaining({ code })] })]);
  });
});

describe('fail-next by code: refusals', () => {
  it('wants status or code, and mode / retryAfter only with a code', async () => {
    const sim = await start('onprem');
    for (const bad of [{ count: 1 }, { status: 500, mode: 'callback', count: 1 }, { code: 'x', count: 1 }, { code: 131048, mode: 'later', count: 1 }]) {
      const res = await fetch(`${sim.url}_sim/fail-next`, { method: 'POST', body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
    }
  });
});
