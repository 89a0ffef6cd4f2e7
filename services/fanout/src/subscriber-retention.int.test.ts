import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { Metrics } from '@cbot-relay/observability';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { SubscriberRetention } from './subscriber-retention.js';
import type { RetentionPolicy } from './subscriber-retention.js';

let redis: TestRedis;
let connection: Redis;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  connection?.disconnect();
  await redis?.close();
});

const NOW = Date.now();
const HOUR = 3_600_000;

async function eventsQueue(prefix: string): Promise<Queue> {
  const q = new Queue('events.crm', { connection, prefix });
  cleanup.push(() => q.close());
  return q;
}

/** `old` events added two hours ago, then `fresh` ones, oldest first: ids o0.., f0.. */
async function fill(q: Queue, old: number, fresh: number): Promise<void> {
  for (let i = 0; i < old; i++) await q.add('message.received', { i }, { jobId: `o${i}`, timestamp: NOW - 2 * HOUR + i });
  for (let i = 0; i < fresh; i++) await q.add('message.received', { i }, { jobId: `f${i}`, timestamp: NOW - 1000 + i });
}

function retention(prefix: string, q: Queue, policy: RetentionPolicy | undefined, metrics: Metrics = createMetrics()) {
  const r = new SubscriberRetention({
    queues: [{ subscriber: 'crm', queue: q, policy }],
    redis: connection,
    prefix,
    metrics,
    log: createLogger({ level: 'silent' }),
    intervalMs: 0,
    now: () => NOW,
  });
  cleanup.push(() => r.close());
  return { r, metrics };
}

async function dropped(metrics: Metrics, reason: string): Promise<number> {
  const m = await metrics.subscriberDropped.get();
  return m.values.find((v) => v.labels['subscriber'] === 'crm' && v.labels['reason'] === reason)?.value ?? 0;
}
const gauge = async (g: Metrics['subscriberWaiting']) => (await g.get()).values.find((v) => v.labels['subscriber'] === 'crm')?.value;
const waitingIds = async (q: Queue) => (await q.getJobs(['wait'], 0, -1, true)).map((j) => j.id);

describe('SubscriberRetention', () => {
  it('drops waiting events past the age bound, then the oldest past the count bound, and counts them', async () => {
    const prefix = uniquePrefix('ret');
    const q = await eventsQueue(prefix);
    await fill(q, 5, 20);
    const { r, metrics } = retention(prefix, q, { maxWaiting: 10, maxAgeMs: HOUR });
    await r.sweep();
    expect(await waitingIds(q)).toEqual(Array.from({ length: 10 }, (_, i) => `f${i + 10}`));
    expect(await dropped(metrics, 'max_age')).toBe(5);
    expect(await dropped(metrics, 'max_waiting')).toBe(10);
    expect(await gauge(metrics.subscriberWaiting)).toBe(10);
    expect(await gauge(metrics.subscriberOldestAge)).toBeCloseTo((1000 - 10) / 1000, 3);
    // Within bounds, a second sweep drops nothing more.
    await r.sweep();
    expect(await q.getWaitingCount()).toBe(10);
    expect(await dropped(metrics, 'max_waiting')).toBe(10);
  });

  it('trims more than one batch (1,000) exactly to the bound', async () => {
    const prefix = uniquePrefix('ret');
    const q = await eventsQueue(prefix);
    await q.addBulk(Array.from({ length: 2_600 }, (_, i) => ({ name: 'e', data: {}, opts: { jobId: `j${i}`, timestamp: NOW - 10_000 + i } })));
    const { r, metrics } = retention(prefix, q, { maxWaiting: 500, maxAgeMs: 0 });
    await r.sweep();
    expect(await q.getWaitingCount()).toBe(500);
    expect(await dropped(metrics, 'max_waiting')).toBe(2_100);
    expect((await q.getJobs(['wait'], 0, 0, true))[0]?.id).toBe('j2100');
  });

  it('drops the excess once when two fanout processes sweep at the same time', async () => {
    const prefix = uniquePrefix('ret');
    const q = await eventsQueue(prefix);
    await fill(q, 0, 300);
    const a = retention(prefix, q, { maxWaiting: 100, maxAgeMs: 0 });
    const b = retention(prefix, q, { maxWaiting: 100, maxAgeMs: 0 });
    await Promise.all([a.r.sweep(), b.r.sweep(), a.r.sweep()]);
    expect(await q.getWaitingCount()).toBe(100);
    expect((await dropped(a.metrics, 'max_waiting')) + (await dropped(b.metrics, 'max_waiting'))).toBe(200);
  });

  it('leaves delayed (retrying) events and unbounded subscribers alone, but still measures lag', async () => {
    const prefix = uniquePrefix('ret');
    const q = await eventsQueue(prefix);
    await fill(q, 3, 0);
    await q.add('retrying', {}, { jobId: 'd1', delay: 60_000, timestamp: NOW - 3 * HOUR });
    const { r, metrics } = retention(prefix, q, undefined);
    await r.sweep();
    expect(await q.getWaitingCount()).toBe(3);
    expect(await gauge(metrics.subscriberWaiting)).toBe(3);
    expect(await gauge(metrics.subscriberOldestAge)).toBeCloseTo(2 * 3600, 0);
    const bounded = retention(prefix, q, { maxWaiting: 1, maxAgeMs: HOUR });
    await bounded.r.sweep();
    expect(await q.getWaitingCount()).toBe(0);
    expect(await q.getDelayedCount()).toBe(1);
    expect(await gauge(bounded.metrics.subscriberOldestAge)).toBe(0);
  });
});
