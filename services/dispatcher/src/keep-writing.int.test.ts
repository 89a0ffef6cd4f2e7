import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CbotClient } from '@cbot-relay/cbot-client';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { MessageStore, Outbound } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { Dispatcher } from './dispatcher.js';

// A Redis of this file's own: the OOM test changes its maxmemory.
let server: TestRedis;
let redis: Redis;
let sim: CbotSim;
let client: CbotClient;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  await redis.config('SET', 'maxmemory-policy', 'noeviction');
  sim = await startCbotSim({ apiKey: 'k', knobs: { statusCallbacks: false } });
  client = new CbotClient({ baseUrl: sim.url, apiKey: 'k', apiKeyHeader: 'Authorization', timeoutMs: 3_000 });
});
afterAll(async () => {
  await redis.config('SET', 'maxmemory', '0');
  await client.close();
  await sim.close();
  redis.disconnect();
  await server.close();
});

const policy = { maxAttempts: 3, maxAgeMs: 3_600_000, baseMs: 10, maxMs: 100, throttleDefaultMs: 1_000 };
const body = (to: string) => JSON.stringify({ to, type: 'text', text: { body: `hi ${to}` } });

async function world(opts: { leaseMs: number; cbotTimeoutMs: number; lines?: string[] }) {
  const prefix = uniquePrefix();
  const outbound = new Outbound({ redis, prefix, recordTtlS: 600 });
  const store = new MessageStore({ redis, prefix, recordTtlS: 600 });
  const stream = { write: (line: string) => void opts.lines?.push(line) };
  const start = () =>
    Dispatcher.start({
      redis,
      concurrency: 8,
      leaseMs: opts.leaseMs,
      cbotTimeoutMs: opts.cbotTimeoutMs,
      ratePerSecond: 1_000_000,
      idlePollMs: 100,
      reconcileWindowMs: 60_000,
      deps: {
        outbound,
        client,
        policy,
        log: createLogger({ level: 'warn', format: 'json', stream }),
        metrics: createMetrics(),
        now: Date.now,
        writeRetry: { minMs: 20, maxMs: 100 },
      },
    });
  return { prefix, outbound, store, start };
}

describe('a dispatcher holding CBOT’s answer', () => {
  it('keeps its lease and retries the write while Redis refuses writes (maxmemory), then records it: no resend', async () => {
    const lines: string[] = [];
    const w = await world({ leaseMs: 6_500, cbotTimeoutMs: 1_000, lines });
    sim.reset();
    sim.setKnobs({ latencyMs: 400 });
    const to = '905557770001';
    await w.outbound.accept({ id: 'oom1', to, type: 'text', caller: 'c', priority: 'normal', nowMs: Date.now(), body: body(to) });
    const holder = await w.start();
    // A second dispatcher all along: it would send the message again if the first one's lease lapsed.
    const other = await w.start();
    try {
      // CBOT has the message; its answer is 400 ms away. Redis now refuses every write.
      await waitFor(() => sim.received().some((m) => m.to === to), { what: 'CBOT to receive the message' });
      const leaseEnd = Number(await redis.zscore(`${w.prefix}:o:leases`, to));
      await redis.config('SET', 'maxmemory', '1');
      await waitFor(() => lines.some((l) => l.includes("Redis did not take CBOT's answer")), { what: 'the refused write', timeoutMs: 10_000 });
      expect((await w.store.get('oom1'))?.status).toBe('sending');
      // Renewed under maxmemory, and still refused past the end of the lease as first taken.
      await waitFor(async () => Number(await redis.zscore(`${w.prefix}:o:leases`, to)) > leaseEnd, { what: 'the lease renewed' });
      await waitFor(() => Date.now() > leaseEnd + 500, { what: 'the first lease to have run out', timeoutMs: 10_000 });
      expect((await w.store.get('oom1'))?.status).toBe('sending');
      await redis.config('SET', 'maxmemory', '0');
      const rec = await waitFor(async () => {
        const r = await w.store.get('oom1');
        return r?.status === 'sent' ? r : undefined;
      }, { what: 'the answer written once Redis takes writes again' });
      expect(rec.cbotMessageId).toBe(sim.received().find((m) => m.to === to)?.wamid);
      expect(rec.attempts.map((a) => a.outcome)).toEqual(['sent']);
      expect(sim.received().filter((m) => m.to === to)).toHaveLength(1);
      expect(await w.store.resends('oom1')).toBe(0);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
      sim.setKnobs({ latencyMs: 0 });
      await Promise.all([holder.close(), other.close()]);
    }
  }, 30_000);

  it('close() returns only once the sends in flight are recorded', async () => {
    const w = await world({ leaseMs: 12_000, cbotTimeoutMs: 2_000 });
    sim.reset();
    sim.setKnobs({ latencyMs: 500 });
    const to = '905557770002';
    await w.outbound.accept({ id: 'close1', to, type: 'text', caller: 'c', priority: 'normal', nowMs: Date.now(), body: body(to) });
    const d = await w.start();
    try {
      await waitFor(() => sim.received().some((m) => m.to === to), { what: 'CBOT to receive the message' });
      await d.close();
      // Read once, at once: a close() that did not wait would leave the record `sending`.
      expect((await w.store.get('close1'))?.status).toBe('sent');
    } finally {
      sim.setKnobs({ latencyMs: 0 });
      await d.close();
    }
  });
});
