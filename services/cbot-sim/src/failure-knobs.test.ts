import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCbotSim, type CbotSim, type CbotSimOptions } from './index.js';

const text = { to: '905551112233', type: 'text', text: { body: 'Merhaba' } };
let sim: CbotSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(opts: Partial<CbotSimOptions> = {}): Promise<CbotSim> {
  sim = await startCbotSim({ apiKey: 'k1', ...opts, knobs: { statusCallbacks: false, ...opts.knobs } });
  return sim;
}

async function send(s: CbotSim) {
  const res = await fetch(`${s.url}v1/messages`, {
    method: 'POST',
    headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
    body: JSON.stringify(text),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: await res.json() };
}

describe('failure knobs', () => {
  it('answers errorRate failures with 500 Internal error by default and does not record them', async () => {
    const s = await start({ knobs: { errorRate: 1 } });
    const res = await send(s);
    expect(res).toEqual({ status: 500, retryAfter: null, json: { errors: [{ code: 1014, title: 'Internal error' }] } });
    expect(s.received()).toHaveLength(0);
    expect(s.counters()).toMatchObject({ attempts: 1, accepted: 0, failures: { '500': 1 } });
  });

  it('answers 429 with Retry-After from retryAfterSeconds', async () => {
    const s = await start({ knobs: { errorRate: 1, errorMix: { '429': 1 }, retryAfterSeconds: 7 } });
    const res = await send(s);
    expect(res).toEqual({ status: 429, retryAfter: '7', json: { errors: [{ code: 1015, title: 'Too many requests' }] } });
  });

  it('answers a simulated permanent 400', async () => {
    const s = await start({ knobs: { errorRate: 1, errorMix: { '400': 1 } } });
    const res = await send(s);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      errors: [{ code: 1009, title: 'Parameter value is not valid', details: 'simulated permanent error' }],
    });
  });

  it('draws failures from errorMix by weight and lets the rest through', async () => {
    // random() < errorRate fails; the second draw picks from the mix 500:1,429:1 (total 2).
    const draws = [0.1, 0.2, 0.1, 0.9, 0.6];
    const s = await start({ random: () => draws.shift() ?? 0.99, knobs: { errorRate: 0.5, errorMix: { '500': 1, '429': 1 } } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(s)).status);
    expect(statuses).toEqual([500, 429, 200]);
    expect(s.counters().failures).toEqual({ '500': 1, '429': 1 });
  });

  it('answers 503 Service not ready during an outage, then recovers', async () => {
    let now = 1_000_000;
    const s = await start({ now: () => now, knobs: { outageUntil: 1_000_500 } });
    const res = await send(s);
    expect(res).toEqual({ status: 503, retryAfter: null, json: { errors: [{ code: 1011, title: 'Service not ready' }] } });
    now = 1_000_500;
    expect((await send(s)).status).toBe(200);
  });

  it('plays scripted failures in order before any random failure', async () => {
    const s = await start();
    s.failNext(500, 2);
    s.failNext(429, 1);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(s)).status);
    expect(statuses).toEqual([500, 500, 429, 200]);
    expect(s.received()).toHaveLength(1);
    expect(s.attempts()).toBe(4);
  });

  it('records a message whose answer it drops, and the client sees a socket error', async () => {
    const s = await start({ knobs: { dropAnswerRate: 1 } });
    await expect(send(s)).rejects.toThrow();
    expect(s.received()).toHaveLength(1);
    expect(s.received()[0]?.answerDropped).toBe(true);
    expect(s.received()[0]?.answer).toBe('dropped');
    expect(s.counters()).toMatchObject({ accepted: 1, dropped: 1, clientGone: 0 });
  });

  it('notes an answer it wrote, and one whose client hung up first (it timed out, or its process died)', async () => {
    const s = await start({ knobs: { latencyMs: 300 } });
    expect((await send(s)).status).toBe(200);
    await expect(
      fetch(`${s.url}v1/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
        body: JSON.stringify(text),
        signal: AbortSignal.timeout(50),
      }),
    ).rejects.toThrow();
    // Both were accepted; the second one's answer can only be settled once the latency is over.
    await vi.waitFor(() => expect(s.received().map((m) => m.answer)).toEqual(['written', 'client-gone']), { timeout: 5_000 });
    expect(s.counters()).toMatchObject({ accepted: 2, dropped: 0, clientGone: 1 });
  });

  it('delays answers by latencyMs', async () => {
    const s = await start({ knobs: { latencyMs: 120 } });
    const started = performance.now();
    expect((await send(s)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });
});
