import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { json, startHarness } from './test-kit/harness.js';

type Rec = { id: string; status: string; error?: { code?: number }; attempts: { outcome: string; httpStatus?: number }[] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
afterEach(() => {
  h.sim.setKnobs({ errorRate: 0, outageUntil: 0 });
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
    h.sim.setKnobs({ outageUntil: Date.now() + 1_000 });
    const to = '905554440000';
    for (let i = 0; i < 20; i++) await idOf(await h.send(text(to, `seq-${i}`)));
    await waitFor(() => h.sim.received().filter((m) => m.to === to).length === 20, { timeoutMs: 30_000 });
    const order = h.sim.received().filter((m) => m.to === to).map((m) => (m.body as { text: { body: string } }).text.body);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => `seq-${i}`));
  });
});

describe('backpressure and storage outages', () => {
  it('answers 429 with Retry-After when the backlog is full', async () => {
    const own = await startHarness({ env: { OUTBOUND_BACKLOG_MAX: '3', RELAY_ROLES: 'ingress' }, redis: h.redis });
    try {
      for (let i = 0; i < 3; i++) await idOf(await own.send(text(`90555555000${i}`)));
      const res = await waitFor(async () => {
        const r = await own.send(text('905555550009'));
        return r.status === 429 ? r : undefined;
      });
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('backlog_full');
    } finally {
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
