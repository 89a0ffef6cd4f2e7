import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, RelayProcess, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, CBOT_KEY, json, startHarness } from './test-kit/harness.js';

type Rec = { id: string; status: string; error?: { code?: number }; attempts: { outcome: string; httpStatus?: number }[] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
afterEach(() => {
  h.sim.setKnobs({ errorRate: 0, outageUntil: 0, pairRateLimited: {} });
});

const text = (to: string, body = 'hello') => ({ to, type: 'text', text: { body } });
const idOf = async (res: Response) => (expect(res.status).toBe(202), (await json<{ id: string }>(res)).id);
const record = async (id: string) => json<Rec>(await h.get(id));

describe('dispatch', () => {
  it('fails at once on a permanent CBOT error, keeps the error, and does not retry', async () => {
    const before = h.sim.attempts();
    h.sim.failNext(400, 1);
    const id = await idOf(await h.send(text('905552220001')));
    const rec = await waitFor(async () => {
      const r = await record(id);
      return r.status === 'failed' ? r : undefined;
    });
    expect(rec.error).toMatchObject({ code: 1009 });
    expect(rec.attempts).toEqual([expect.objectContaining({ outcome: 'failed', httpStatus: 400 })]);
    expect(h.sim.attempts() - before).toBe(1);
  });

  it('lists the failure as a dead letter and replays it', async () => {
    h.sim.failNext(400, 1);
    const id = await idOf(await h.send(text('905552220002')));
    await waitFor(async () => (await record(id)).status === 'failed');
    const list = await json<{ items: { id: string; kind: string }[] }>(await h.admin('/v1/dead-letters'));
    expect(list.items.map((i) => i.id)).toContain(id);
    expect((await fetch(`${h.base}/v1/dead-letters`)).status).toBe(401);
    const replay = await h.admin(`/v1/dead-letters/${id}/replay`, 'POST');
    expect(replay.status).toBe(202);
    await waitFor(async () => ['sent', 'delivered', 'read'].includes((await record(id)).status));
    expect((await h.admin(`/v1/dead-letters/${id}/replay`, 'POST')).status).toBe(409);
    expect((await h.admin('/v1/dead-letters/msg_unknown/replay', 'POST')).status).toBe(404);
  });

  it('replays many failed messages in one call, each once', async () => {
    const replayMany = async (body: unknown) => {
      const res = await fetch(`${h.base}/v1/dead-letters/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return json(res);
    };
    // Whatever earlier tests left failed goes first, so that it takes none of the failures below.
    const sentBefore = h.sim.received().length;
    const { replayed: leftOver } = (await replayMany({ kind: 'message' })) as { replayed: number };
    await waitFor(() => h.sim.received().length >= sentBefore + leftOver, { what: 'earlier dead letters sent' });
    const since = new Date().toISOString();
    h.sim.failNext(400, 2);
    const ids = [await idOf(await h.send(text('905552220011'))), await idOf(await h.send(text('905552220012')))];
    await waitFor(async () => (await Promise.all(ids.map(record))).every((r) => r.status === 'failed'), { what: 'two failed messages' });
    expect(await replayMany({ kind: 'event' })).toEqual({ replayed: 0, skipped: 0, more: false });
    expect(await replayMany({ kind: 'message', since: new Date(Date.now() + 60_000).toISOString() })).toEqual({ replayed: 0, skipped: 0, more: false });
    expect(await replayMany({ kind: 'message', since })).toEqual({ replayed: 2, skipped: 0, more: false });
    expect(await replayMany({ kind: 'all' })).toEqual({ replayed: 0, skipped: 0, more: false });
    await waitFor(async () => (await Promise.all(ids.map(record))).every((r) => ['sent', 'delivered', 'read'].includes(r.status)), { what: 'both sent' });
    for (const id of ids) expect((await record(id)).attempts.filter((a) => a.outcome === 'sent')).toHaveLength(1);
  });

  it('sends everything eventually while CBOT fails 30% with 500 and 429', async () => {
    h.sim.setKnobs({ errorRate: 0.3, errorMix: { '500': 1, '429': 1 }, retryAfterSeconds: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await idOf(await h.send(text(`90555333${String(i % 12).padStart(4, '0')}`, `m${i}`))));
    await waitFor(
      async () => {
        for (const id of ids) if (!['sent', 'delivered', 'read'].includes((await record(id)).status)) return false;
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const bodies = h.sim.received().map((m) => (m.body as { text: { body: string } }).text.body);
    for (let i = 0; i < 60; i++) expect(bodies.filter((b) => b === `m${i}`)).toHaveLength(1);
    expect(h.sim.counters().failures['500'] ?? 0).toBeGreaterThan(0);
  });

  it('rides out an outage and keeps one recipient in order', async () => {
    const outagesBefore = h.sim.counters().failures['503'] ?? 0;
    h.sim.setKnobs({ outageUntil: Date.now() + 1_000 });
    const to = '905554440000';
    for (let i = 0; i < 20; i++) await idOf(await h.send(text(to, `seq-${i}`)));
    await waitFor(() => h.sim.received().filter((m) => m.to === to).length === 20, { timeoutMs: 30_000 });
    // The outage was met (the first send got 503), and ridden out in order.
    expect((h.sim.counters().failures['503'] ?? 0) - outagesBefore).toBeGreaterThan(0);
    const order = h.sim.received().filter((m) => m.to === to).map((m) => (m.body as { text: { body: string } }).text.body);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => `seq-${i}`));
  });

  it('holds only the recipient CBOT pair-rate-limits (131056); every other recipient flows', async () => {
    const limited = '905554450000';
    h.sim.setKnobs({ pairRateLimited: { [limited]: Date.now() + 60_000 } });
    const held: string[] = [];
    for (let i = 0; i < 3; i++) held.push(await idOf(await h.send(text(limited, `pair-${i}`))));
    await waitFor(async () => (await record(held[0]!)).attempts.some((a) => a.outcome === 'throttled'));
    const others: string[] = [];
    for (let i = 0; i < 100; i++) others.push(await idOf(await h.send(text(`90555446${String(i).padStart(4, '0')}`, `free-${i}`))));
    await waitFor(() => h.sim.received().filter((m) => m.to.startsWith('90555446')).length === 100, { timeoutMs: 30_000 });
    // Everyone else went while the limited recipient was still held, with its messages waiting in order.
    expect(h.sim.received().filter((m) => m.to === limited)).toEqual([]);
    const first = await record(held[0]!);
    expect(first.status).toBe('sending');
    expect(first.attempts.every((a) => a.outcome === 'throttled' && a.httpStatus === 400)).toBe(true);
    const answers = (await h.metrics.cbotAnswers.get()).values;
    expect(answers.find((v) => v.labels.outcome === 'throttled_recipient' && v.labels.code === '131056')?.value).toBeGreaterThan(0);
    // A pair rate limit never paused the sender.
    expect(answers.find((v) => v.labels.outcome === 'throttled_sender' && v.labels.code === '131056')).toBeUndefined();
    h.sim.setKnobs({ pairRateLimited: {} });
    await waitFor(() => h.sim.received().filter((m) => m.to === limited).length === 3, { timeoutMs: 30_000 });
    const order = h.sim.received().filter((m) => m.to === limited).map((m) => (m.body as { text: { body: string } }).text.body);
    expect(order).toEqual(['pair-0', 'pair-1', 'pair-2']);
  });
});

describe('backpressure and storage outages', () => {
  it('answers 429 with Retry-After exactly at the backlog bound, and keeps nothing of the refused message', async () => {
    const own = await startHarness({ env: { OUTBOUND_BACKLOG_MAX: '3', RELAY_ROLES: 'ingress' }, redis: h.redis });
    const redis = new Redis(h.redis.url);
    try {
      // Concurrent requests: the bound is checked in the same step as each accept, not from a cached count.
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => own.send(text(`90555555000${i}`))));
      expect(answers.map((r) => r.status).sort()).toEqual([202, 202, 202, 429, 429, 429]);
      const refused = answers.find((r) => r.status === 429)!;
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((await json<{ error: { code: string } }>(refused)).error.code).toBe('backlog_full');
      expect(await redis.zcard(`${own.prefix}:open`)).toBe(3);
      expect(await redis.keys(`${own.prefix}:msg:*`)).toHaveLength(3);
      expect(await redis.keys(`${own.prefix}:body:*`)).toHaveLength(3);
    } finally {
      redis.disconnect();
      await own.close();
    }
  });

  it('answers 503 while Redis is down and accepts again when it is back', async () => {
    const redis = await LocalRedis.start({ aof: true });
    const own = await startHarness({ redis: { url: redis.url, kind: 'local', close: () => redis.close(), [Symbol.asyncDispose]: () => redis.close() } });
    try {
      await idOf(await own.send(text('905556660001')));
      await redis.kill();
      const down = await own.send(text('905556660002'));
      expect(down.status).toBe(503);
      expect((await json<{ error: { code: string } }>(down)).error.code).toBe('unavailable');
      expect((await fetch(`${own.base}/readyz`)).status).toBe(503);
      await redis.restart();
      const id = await waitFor(async () => {
        const r = await own.send(text('905556660003'));
        return r.status === 202 ? (await json<{ id: string }>(r)).id : undefined;
      });
      await waitFor(async () => ['sent', 'delivered', 'read'].includes((await json<Rec>(await own.get(id))).status));
    } finally {
      await own.close();
      await redis.close();
    }
  });
});

describe('several dispatcher processes share one sender', () => {
  let own: Harness;
  beforeAll(async () => {
    own = await startHarness({ env: { RELAY_ROLES: 'ingress' }, knobs: { statusCallbacks: false } });
  });
  afterAll(async () => {
    await own.close();
  });
  const dispatcher = (env: Record<string, string>) =>
    RelayProcess.start({
      env: { REDIS_URL: own.redis.url, RELAY_ROLES: 'dispatcher', CBOT_BASE_URL: own.sim.url, CBOT_API_KEY: CBOT_KEY, QUEUE_PREFIX: own.prefix, LOG_LEVEL: 'info', ...env },
    });

  it('keeps to CBOT_RATE_LIMIT across processes', async () => {
    own.sim.reset();
    const env = { CBOT_RATE_LIMIT: '40' };
    await using a = await dispatcher(env);
    await using b = await dispatcher(env);
    for (let i = 0; i < 120; i++) await idOf(await own.send(text(`90555777${String(i).padStart(4, '0')}`)));
    await waitFor(() => own.sim.received().length === 120, { timeoutMs: 30_000 });
    const at = own.sim.received().map((m) => Date.parse(m.receivedAt)).sort((x, y) => x - y);
    // GCRA: a burst of a tenth of a second's worth (4), then one every 25 ms. Two processes each
    // keeping their own count would send at 80/s.
    const rate = ((at.length - 4) * 1000) / (at.at(-1)! - at[0]!);
    expect(rate).toBeLessThanOrEqual(40 * 1.1);
    expect(rate).toBeGreaterThan(40 * 0.7);
    expect([a.pid, b.pid].every((p) => p !== undefined)).toBe(true);
  });

  it('pauses every process when one of them meets a 429', async () => {
    own.sim.reset();
    own.sim.setKnobs({ retryAfterSeconds: 2 });
    await using a = await dispatcher({ CBOT_RATE_LIMIT: '100000' });
    await using b = await dispatcher({ CBOT_RATE_LIMIT: '100000' });
    const redis = new Redis(own.redis.url);
    try {
      own.sim.failNext(429, 1);
      await idOf(await own.send(text('905557880000')));
      // The pause is set in Redis when the 429 is met; everything sent from then on waits it out.
      const pttl = await waitFor(async () => {
        const ms = await redis.pttl(`${own.prefix}:gate:pause`);
        return ms > 0 ? ms : undefined;
      });
      const pauseEnds = Date.now() + pttl;
      for (let i = 1; i <= 10; i++) await idOf(await own.send(text(`90555788${String(i).padStart(4, '0')}`)));
      await waitFor(() => own.sim.received().length === 11, { timeoutMs: 30_000 });
      const earliest = Math.min(...own.sim.received().map((m) => Date.parse(m.receivedAt)));
      // Slack for reading the clock after Redis answered; without the pause they would go ~2 s earlier.
      expect(earliest).toBeGreaterThanOrEqual(pauseEnds - 250);
      expect([a.pid, b.pid].every((p) => p !== undefined)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
