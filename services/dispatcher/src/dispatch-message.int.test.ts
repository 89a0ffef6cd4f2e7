import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CbotClient } from '@cbot-relay/cbot-client';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { MessageStore, Outbound } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { DispatchDeps } from './dispatch-message.js';
import { sendLeased } from './dispatch-message.js';
import { Dispatcher } from './dispatcher.js';

let server: TestRedis;
let redis: Redis;
let sim: CbotSim;
let client: CbotClient;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  sim = await startCbotSim({ apiKey: 'k', knobs: { statusCallbacks: false } });
  client = new CbotClient({ baseUrl: sim.url, apiKey: 'k', apiKeyHeader: 'Authorization', timeoutMs: 2_000 });
});
afterAll(async () => {
  await client.close();
  await sim.close();
  redis.disconnect();
  await server.close();
});

const CLAIM = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const policy = { maxAttempts: 3, maxAgeMs: 3_600_000, baseMs: 10, maxMs: 100, throttleDefaultMs: 1_000 };

function deps(prefix: string): DispatchDeps & { store: MessageStore } {
  return {
    outbound: new Outbound({ redis, prefix, recordTtlS: 600 }),
    store: new MessageStore({ redis, prefix, recordTtlS: 600 }),
    client,
    policy,
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    now: Date.now,
  };
}

const body = (to: string) => JSON.stringify({ to, type: 'text', text: { body: 'hi' } });

describe('sendLeased', () => {
  it('sends the leased message and records CBOT’s id', async () => {
    const d = deps(uniquePrefix());
    await d.outbound.accept({ id: 'm1', to: '905550001', type: 'text', caller: 'crm', priority: 'normal', nowMs: Date.now(), body: body('905550001') });
    const [lease] = (await d.outbound.claim(1, Date.now(), CLAIM)).leases;
    await sendLeased(d, lease!, Date.now() + 5_000, { leaseMs: 30_000 });
    const rec = await d.store.get('m1');
    expect(rec?.status).toBe('sent');
    expect(sim.received().some((m) => m.wamid === rec?.cbotMessageId)).toBe(true);
  });

  it('hands a lease back unsent when its send would start too late, and the next claim is no resend', async () => {
    const d = deps(uniquePrefix());
    sim.reset();
    await d.outbound.accept({ id: 'm2', to: '905550002', type: 'text', caller: 'crm', priority: 'normal', nowMs: Date.now(), body: body('905550002') });
    const [lease] = (await d.outbound.claim(1, Date.now(), CLAIM)).leases;
    await sendLeased(d, lease!, Date.now() - 1, { leaseMs: 30_000 });
    expect(sim.counters().attempts).toBe(0);
    expect((await d.store.get('m2'))?.status).toBe('sending');
    const [again] = (await d.outbound.claim(1, Date.now(), CLAIM)).leases;
    expect(again).toMatchObject({ id: 'm2', ambiguous: false });
  });
});

describe('Dispatcher wake-ups', () => {
  // An idle dispatcher waits for an accept's wake-up, with a poll as the safety net. A wake-up that
  // lands between the claim that answered "idle" and the dispatcher reading that answer must still
  // count: accepts trickling in one by one to a CBOT that answers at once hit that window often.
  it('sends every message of a trickle long before the idle poll, partitioned or not', async () => {
    for (const partitions of [1, 3]) {
      const prefix = uniquePrefix();
      const outbound = new Outbound({ redis, prefix, recordTtlS: 600, partitions });
      const dispatcher = await Dispatcher.start({
        redis,
        concurrency: 64,
        leaseMs: 12_000,
        cbotTimeoutMs: 2_000,
        ratePerSecond: 1_000_000,
        // Far longer than the test may take: only wake-ups can get these messages sent in time.
        idlePollMs: 600_000,
        deps: { outbound, client, policy, log: createLogger({ level: 'silent' }), metrics: createMetrics(), now: Date.now },
      });
      try {
        const tos = Array.from({ length: 300 }, (_, i) => `90555${partitions}${String(i).padStart(6, '0')}`);
        for (const to of tos) {
          await outbound.accept({ id: `msg_${Date.now().toString(36).padStart(9, '0')}${to.slice(-16).padStart(16, '0')}`, to, type: 'text', caller: 'c', priority: 'normal', nowMs: Date.now(), body: body(to) });
          await sleep(2);
        }
        const got = () => new Set(sim.received().map((m) => m.to).filter((to) => tos.includes(to))).size;
        await waitFor(() => got() === tos.length, { timeoutMs: 30_000, what: `all ${tos.length} sent (${partitions} partition(s))` });
        expect(got()).toBe(tos.length);
      } finally {
        await dispatcher.close();
      }
    }
  });
});
