import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim } from './index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(api: 'onprem' | 'cloud'): Promise<CbotSim> {
  const sim = await startCbotSim({ api, apiKey: 'k1', apiKeyHeader: 'D360-API-KEY', knobs: { statusCallbacks: false } });
  cleanups.push(() => sim.close());
  return sim;
}

async function call(sim: CbotSim, method: string, path: string, body: string, key = 'k1') {
  const res = await fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json', 'd360-api-key': key }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('the simulator taking read receipts', () => {
  it('On-Premises: PUT /v1/messages/{id} with status read, logged with its place among the sends', async () => {
    const sim = await start('onprem');
    await call(sim, 'POST', 'v1/messages', JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'x' } }));
    const res = await call(sim, 'PUT', 'v1/messages/gBEGkYiEB1VXAglK1ZEqA1YKPrU', '{"status":"read"}');
    expect(res).toEqual({ status: 200, json: {} });
    expect(sim.reads()).toEqual([
      expect.objectContaining({ wamid: 'gBEGkYiEB1VXAglK1ZEqA1YKPrU', api: 'onprem', typing: false, body: { status: 'read' }, messagesBefore: 1 }),
    ]);
    expect(sim.reads()[0]!.headers['d360-api-key']).toBeUndefined();
    expect((await call(sim, 'PUT', 'v1/messages/x%2Fy', '{"status":"read"}')).status).toBe(200);
    expect(sim.reads()[1]!.wamid).toBe('x/y');
    // Wrong status, typing (Cloud only), bad JSON, a bad escape, a wrong key: refused, not logged.
    for (const [path, body] of [['v1/messages/a', '{"status":"delivered"}'], ['v1/messages/a', '{"status":"read","typing_indicator":{"type":"text"}}'], ['v1/messages/a', '{'], ['v1/messages/%E0%A4%A', '{"status":"read"}']]) {
      expect((await call(sim, 'PUT', path!, body!)).status).toBe(400);
    }
    expect((await call(sim, 'PUT', 'v1/messages/a', '{"status":"read"}', 'nope')).status).toBe(401);
    expect(sim.reads()).toHaveLength(2);
    const control = (await (await fetch(`${sim.url}_sim/reads`)).json()) as { reads: unknown[]; count: number };
    expect(control.count).toBe(2);
  });

  it('Cloud: POST /messages with message_id and the typing indicator, answered success', async () => {
    const sim = await start('cloud');
    const read = { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.HBgM', typing_indicator: { type: 'text' } };
    expect(await call(sim, 'POST', 'messages', JSON.stringify(read))).toEqual({ status: 200, json: { success: true } });
    expect(sim.reads()[0]).toMatchObject({ wamid: 'wamid.HBgM', api: 'cloud', typing: true, body: read, messagesBefore: 0 });
    expect(sim.received()).toEqual([]);
    expect((await call(sim, 'POST', 'messages', JSON.stringify({ ...read, typing_indicator: { type: 'audio' } }))).status).toBe(400);
    expect((await call(sim, 'POST', 'messages', JSON.stringify({ status: 'read', message_id: 'w' }))).status).toBe(400);
    expect((await call(sim, 'PUT', 'v1/messages/w', '{"status":"read"}')).status).toBe(404);
  });

  it('fails a receipt on demand like a send (failNext)', async () => {
    const sim = await start('cloud');
    sim.failNext(503, 1);
    const read = JSON.stringify({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.F' });
    expect((await call(sim, 'POST', 'messages', read)).status).toBe(503);
    expect((await call(sim, 'POST', 'messages', read)).status).toBe(200);
    expect(sim.reads()).toHaveLength(1);
  });
});
