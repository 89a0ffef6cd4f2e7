import { afterEach, describe, expect, it } from 'vitest';
import { defaultKnobs, startCbotSim, type CbotSim } from './index.js';

let sim: CbotSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<CbotSim> {
  sim = await startCbotSim({ apiKey: 'k1', knobs: { statusCallbacks: false } });
  return sim;
}

async function call(s: CbotSim, method: string, path: string, body?: unknown) {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: 'Bearer k1' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const text = { to: '905551112233', type: 'text', text: { body: 'x' } };

describe('control endpoints', () => {
  it('answers /healthz', async () => {
    const s = await start();
    expect(await call(s, 'GET', 'healthz')).toEqual({ status: 200, json: { status: 'ok' } });
    expect((await call(s, 'GET', 'nope')).status).toBe(404);
  });

  it('forgets the registered callback URL on POST /_sim/forget-webhook', async () => {
    const s = await start();
    expect(await call(s, 'POST', 'v1/configs/webhook', { url: 'http://relay.example/webhooks/cbot' })).toEqual({
      status: 200,
      json: { url: 'http://relay.example/webhooks/cbot' },
    });
    expect(await call(s, 'POST', '_sim/forget-webhook')).toEqual({ status: 200, json: { url: null } });
    expect(await call(s, 'GET', 'v1/configs/webhook')).toEqual({ status: 200, json: { url: null } });
    expect(s.webhook()).toBeUndefined();
    expect((await call(s, 'POST', '_sim/inbound', { kind: 'text', from: '905551112233', text: 'x' })).status).toBe(409);
  });

  it('reads and patches knobs, merging callbackRetry', async () => {
    const s = await start();
    expect((await call(s, 'GET', '_sim/knobs')).json).toEqual({ ...defaultKnobs, statusCallbacks: false });
    const res = await call(s, 'POST', '_sim/knobs', { latencyMs: 5, errorMix: { '429': 2 }, callbackRetry: { attempts: 3 } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ latencyMs: 5, errorMix: { '429': 2 }, callbackRetry: { ...defaultKnobs.callbackRetry, attempts: 3 } });
    expect(s.knobs().latencyMs).toBe(5);
  });

  it.each([
    ['errorRate', { errorRate: 1.5 }],
    ['latencyMs', { latencyMs: -1 }],
    ['errorMix', { errorMix: { '500': 0 } }],
    ['errorMix', { errorMix: { '418': 1 } }],
    ['statusDelaysMs', { statusDelaysMs: [1, 2] }],
    ['statusCallbacks', { statusCallbacks: 'no' }],
    ['failNext', { failNext: [{ status: 404, count: 1 }] }],
    ['latencyMS', { latencyMS: 5 }],
  ])('answers 400 naming %s for invalid knobs and changes nothing', async (field, body) => {
    const s = await start();
    const res = await call(s, 'POST', '_sim/knobs', body);
    expect(res.status).toBe(400);
    expect(res.json.errors[0]).toMatchObject({ code: 1009, details: expect.stringContaining(field) });
    expect(s.knobs()).toEqual({ ...defaultKnobs, statusCallbacks: false });
  });

  it('answers 400 for a knobs body that is not JSON', async () => {
    const s = await start();
    expect((await call(s, 'POST', '_sim/knobs', '{')).status).toBe(400);
  });

  it('queues scripted failures from the knobs endpoint and /_sim/fail-next', async () => {
    const s = await start();
    await call(s, 'POST', '_sim/knobs', { failNext: [{ status: 503, count: 1 }] });
    await call(s, 'POST', '_sim/fail-next', { status: 400, count: 1 });
    expect((await call(s, 'GET', '_sim/fail-next')).json).toEqual({ failNext: [{ status: 503, count: 1 }, { status: 400, count: 1 }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(s, 'POST', 'v1/messages', text)).status);
    expect(statuses).toEqual([503, 400, 200]);
  });

  it('lists received messages with counters, and reset clears them and scripted failures', async () => {
    const s = await start();
    await call(s, 'POST', 'v1/messages', text);
    s.failNext(500, 1);
    await call(s, 'POST', 'v1/messages', text);
    s.failNext(500, 5);
    const received = (await call(s, 'GET', '_sim/received')).json;
    expect(received).toMatchObject({ attempts: 2, accepted: 1, dropped: 0, failures: { '500': 1 } });
    expect(received.messages).toEqual([
      expect.objectContaining({ wamid: expect.any(String), to: text.to, type: 'text', body: text, receivedAt: expect.any(String) }),
    ]);
    await call(s, 'POST', '_sim/knobs', { latencyMs: 1 });
    expect((await call(s, 'POST', '_sim/reset')).status).toBe(200);
    expect((await call(s, 'GET', '_sim/received')).json).toEqual({ messages: [], attempts: 0, accepted: 0, dropped: 0, clientGone: 0, failures: {}, statusCallbacksSkipped: 0 });
    expect((await call(s, 'POST', 'v1/messages', text)).status).toBe(200);
    expect(s.knobs().latencyMs).toBe(1);
    await call(s, 'POST', '_sim/reset', { knobs: true });
    expect(s.knobs().latencyMs).toBe(0);
  });

  it('lists callbacks', async () => {
    const s = await start();
    expect((await call(s, 'GET', '_sim/callbacks')).json).toEqual({ callbacks: [] });
  });
});
