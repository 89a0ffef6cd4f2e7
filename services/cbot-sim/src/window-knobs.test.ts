import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim, type CbotSimOptions } from './index.js';

const to = '905551112299';
const text = { to, type: 'text', text: { body: 'Merhaba' } };
const template = { to, type: 'template', template: { name: 'hello', language: { code: 'tr' } } };
let sim: CbotSim | undefined;
let hook: ReturnType<typeof createServer> | undefined;

afterEach(async () => {
  await sim?.close();
  hook?.close();
  sim = hook = undefined;
});

/** A simulator with a webhook that takes every callback, so inbound messages can be delivered. */
async function start(opts: Partial<CbotSimOptions> = {}): Promise<CbotSim> {
  hook = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => hook!.listen(0, '127.0.0.1', resolve));
  sim = await startCbotSim({ apiKey: 'k1', ...opts, knobs: { statusCallbacks: false, ...opts.knobs } });
  sim.setWebhook(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/`);
  return sim;
}

async function send(s: CbotSim, body: Record<string, unknown>, cloud = false) {
  const res = await fetch(`${s.url}${cloud ? 'messages' : 'v1/messages'}`, {
    method: 'POST',
    headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
    body: JSON.stringify(cloud ? { messaging_product: 'whatsapp', ...body } : body),
  });
  return { status: res.status, json: (await res.json()) as { errors?: { code: number }[]; error?: { code: number } } };
}

describe('customer-service window knobs', () => {
  it('enforceWindow: refuses free-form messages without an inbound within 24 h with 470 (On-Premises); templates pass', async () => {
    const s = await start({ knobs: { enforceWindow: true } });
    expect(await send(s, text)).toMatchObject({ status: 400, json: { errors: [{ code: 470 }] } });
    expect((await send(s, template)).status).toBe(200);
    // An inbound message 25 h old does not open it; a fresh one does.
    await (await s.deliverInbound({ from: to, timestamp: Math.floor(Date.now() / 1000) - 25 * 3600 })).done;
    expect((await send(s, text)).status).toBe(400);
    await (await s.deliverInbound({ from: to })).done;
    expect((await send(s, text)).status).toBe(200);
    expect(s.received().map((m) => m.type)).toEqual(['template', 'text']);
  });

  it('outsideWindow: refuses the listed recipients with 131047 on Cloud', async () => {
    const s = await start({ api: 'cloud', knobs: { outsideWindow: [to] } });
    expect(await send(s, text, true)).toMatchObject({ status: 400, json: { error: { code: 131047 } } });
    expect((await send(s, template, true)).status).toBe(200);
    s.setKnobs({ outsideWindow: [] });
    expect((await send(s, text, true)).status).toBe(200);
  });

  it("sends an inbound message with the timestamp asked for", async () => {
    const s = await start();
    const { payload } = await s.deliverInbound({ from: to, text: 'STOP', timestamp: 1_700_000_000 });
    expect(payload).toMatchObject({ messages: [{ from: to, timestamp: '1700000000', type: 'text', text: { body: 'STOP' } }] });
  });
});
