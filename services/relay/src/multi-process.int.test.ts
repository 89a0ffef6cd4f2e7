import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageStore, Outbound } from '@cbot-relay/records';
import { RelayProcess, freePort, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { CBOT_KEY, json, startHarness } from './test-kit/harness.js';

let h: Harness;
beforeAll(async () => {
  // This process only accepts; dispatchers are separate processes that the tests start and kill.
  h = await startHarness({ env: { RELAY_ROLES: 'ingress' }, knobs: { statusCallbacks: false } });
});
afterAll(async () => {
  await h.close();
});

const dispatcher = (extra: Record<string, string> = {}) =>
  RelayProcess.start({
    env: {
      REDIS_URL: h.redis.url,
      RELAY_ROLES: 'dispatcher',
      CBOT_BASE_URL: h.sim.url,
      CBOT_API_KEY: CBOT_KEY,
      QUEUE_PREFIX: h.prefix,
      DISPATCH_BACKOFF_BASE_MS: '20',
      DISPATCH_BACKOFF_MAX_MS: '200',
      CBOT_RATE_LIMIT: '100000',
      LOG_LEVEL: 'info',
      ...extra,
    },
  });

async function sendAll(bodies: { to: string; text: string }[], concurrency = 16): Promise<string[]> {
  const ids: string[] = new Array<string>(bodies.length);
  let next = 0;
  // Per recipient, requests go one after another (acceptance order is what ordering is measured against).
  const byRecipient = new Map<string, number[]>();
  bodies.forEach((b, i) => byRecipient.set(b.to, [...(byRecipient.get(b.to) ?? []), i]));
  const queues = [...byRecipient.values()];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queues.length) }, async () => {
      for (;;) {
        const q = queues[next++];
        if (!q) return;
        for (const i of q) {
          const b = bodies[i]!;
          const res = await h.send({ to: b.to, type: 'text', text: { body: b.text } });
          expect(res.status).toBe(202);
          ids[i] = (await json<{ id: string }>(res)).id;
        }
      }
    }),
  );
  return ids;
}

const bodyText = (m: { body: unknown }) => (m.body as { text: { body: string } }).text.body;

describe('several dispatcher processes', () => {
  it('keeps each recipient in acceptance order (10 recipients × 50 messages, 2 dispatchers)', async () => {
    h.sim.reset();
    h.sim.setKnobs({ latencyMs: 2 });
    const a = await dispatcher();
    const b = await dispatcher();
    const bodies = Array.from({ length: 500 }, (_, i) => ({ to: `9055577700${String(i % 10).padStart(2, '0')}`, text: `n${Math.floor(i / 10)}` }));
    await sendAll(bodies, 10);
    await waitFor(() => h.sim.received().length >= 500, { timeoutMs: 60_000, intervalMs: 100 });
    for (let r = 0; r < 10; r++) {
      const to = `9055577700${String(r).padStart(2, '0')}`;
      const got = h.sim.received().filter((m) => m.to === to).map(bodyText);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    }
    // Stopped gracefully, so no send of this test is left in flight to surface in the next one.
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(await b.stop('SIGTERM')).toBe(0);
  });

  it('loses nothing and doubles nothing when a dispatcher is SIGKILLed mid-run', async () => {
    h.sim.reset();
    // CBOT takes 200 ms: with 100 recipients about 100 sends are on the wire whenever the kill lands.
    h.sim.setKnobs({ latencyMs: 200 });
    const bodies = Array.from({ length: 1000 }, (_, i) => ({ to: `90555888${String(i % 100).padStart(4, '0')}`, text: `k${i}` }));
    const ids = await sendAll(bodies, 20);
    // A short CBOT timeout makes the dead process's leases (timeout + 10 s) expire within the test,
    // and a short reconcile window sends them again soon: this CBOT sends no status that could
    // identify them (reconcile.int.test.ts has the statuses).
    const fast = { CBOT_TIMEOUT_MS: '1000', RECONCILE_WINDOW_S: '2' };
    const first = await dispatcher(fast);
    await waitFor(() => h.sim.received().length >= 200, { timeoutMs: 60_000, intervalMs: 20 });
    expect(await first.stop('SIGKILL')).toBeNull();
    const mid = h.sim.received().length;
    expect(mid).toBeLessThan(1000);
    await using second = await dispatcher(fast);
    await waitFor(() => new Set(h.sim.received().map(bodyText)).size >= 1000, { timeoutMs: 120_000, intervalMs: 100 });
    // Every text arrived, but a message whose answer died with the killed process is still open
    // until its lease expires and the second dispatcher resends it: count once nothing is open, or
    // that resend lands in the next test.
    const backlog = new Redis(h.redis.url);
    try {
      const outbound = new Outbound({ redis: backlog, prefix: h.prefix, recordTtlS: 3600 });
      await waitFor(async () => (await outbound.backlog()).count === 0, { timeoutMs: 60_000, intervalMs: 100, what: 'no message open' });
    } finally {
      backlog.disconnect();
    }

    const counts = new Map<string, number>();
    for (const m of h.sim.received()) counts.set(bodyText(m), (counts.get(bodyText(m)) ?? 0) + 1);
    const expected = new Set(bodies.map((b) => b.text));
    expect([...counts.keys()].filter((k) => !expected.has(k))).toEqual([]);
    expect(counts.size).toBe(1000);
    const redis = new Redis(h.redis.url);
    try {
      const store = new MessageStore({ redis, prefix: h.prefix, recordTtlS: 3600 });
      // A second copy is allowed only where the relay knows CBOT's answer may have been lost.
      for (const [i, b] of bodies.entries()) {
        if ((counts.get(b.text) ?? 0) > 1) expect(await store.resends(ids[i]!)).toBeGreaterThan(0);
      }
      const doubled = [...counts.values()].filter((c) => c > 1).length;
      expect(doubled).toBeLessThanOrEqual(await store.ambiguousResends());
      // The kill landed with sends in flight: their recipients waited out the dead process's leases,
      // and the relay counted each resend of a message whose answer it never got.
      expect(await store.ambiguousResends()).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    expect(second.pid).toBeDefined();
  });

  it('shuts a dispatcher down gracefully on SIGTERM under load: exit 0, nothing lost, doubled or reordered', async () => {
    h.sim.reset();
    h.sim.setKnobs({ latencyMs: 20 });
    const bodies = Array.from({ length: 300 }, (_, i) => ({ to: `90555999${String(i % 30).padStart(4, '0')}`, text: `t${i}` }));
    await sendAll(bodies, 30);
    const first = await dispatcher();
    await waitFor(() => h.sim.received().length >= 50, { timeoutMs: 60_000, intervalMs: 10 });
    expect(await first.stop('SIGTERM')).toBe(0);
    const before = h.sim.received().length;
    expect(before).toBeLessThan(300);
    await using second = await dispatcher();
    await waitFor(() => h.sim.received().length >= 300, { timeoutMs: 60_000, intervalMs: 50 });
    const texts = h.sim.received().map(bodyText);
    expect(new Set(texts).size).toBe(300);
    expect(texts).toHaveLength(300);
    for (let r = 0; r < 30; r++) {
      const to = `90555999${String(r).padStart(4, '0')}`;
      const got = h.sim.received().filter((m) => m.to === to).map(bodyText);
      expect(got).toEqual(bodies.filter((b) => b.to === to).map((b) => b.text));
    }
    expect(second.pid).toBeDefined();
  });
});

describe('OPS_PORT', () => {
  it('is served by a dispatcher-only process, unauthenticated, on the port it was given', async () => {
    const port = await freePort();
    const proc = await RelayProcess.start({
      env: { REDIS_URL: h.redis.url, RELAY_ROLES: 'dispatcher', CBOT_BASE_URL: h.sim.url, CBOT_API_KEY: CBOT_KEY, QUEUE_PREFIX: h.prefix, OPS_PORT: String(port) },
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const scraped = await (await fetch(`${base}/metrics`)).text();
      expect(scraped).toContain('relay_messages_sent_total');
      // Measured by this process at the scrape: a real round trip, neither zero nor absent.
      const ping = Number(/^relay_redis_ping_seconds (\S+)$/m.exec(scraped)?.[1]);
      expect(ping).toBeGreaterThan(0);
      expect(ping).toBeLessThan(5);
    } finally {
      await proc.stop();
    }
  });
});
