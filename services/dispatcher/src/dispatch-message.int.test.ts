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

describe('settling what CBOT answered: waits read back from Redis', () => {
  /** One message accepted, claimed and sent while the simulator answers as scripted; the deps, lease and the time of the send. */
  async function sendOne(script: () => void, over: Partial<DispatchDeps> = {}) {
    const prefix = uniquePrefix();
    const d = { ...deps(prefix), ...over };
    const to = `90555${Math.floor(Math.random() * 1e7)}`;
    const accepted = await d.outbound.accept({ id: 'w1', to, type: 'text', caller: 'crm', priority: 'normal', nowMs: Date.now(), body: body(to) });
    const id = accepted.kind === 'created' ? accepted.id : 'w1';
    sim.reset();
    script();
    const [lease] = (await d.outbound.claim(1, Date.now(), CLAIM)).leases;
    const before = Date.now();
    await sendLeased(d, lease!, Date.now() + 5_000, { leaseMs: 30_000 });
    return { d, prefix, to, id, before, after: Date.now() };
  }
  const gatePttl = (prefix: string) => redis.pttl(`${prefix}:gate:pause`);

  it('honours a Retry-After longer than the backoff on a retryable 5xx (not just the backoff)', async () => {
    // Backoff here is at most 100 ms; the answer asks for 30 s.
    const { d, to, before, after } = await sendOne(() => sim.failNextCode(131000, 1, { status: 500, retryAfter: 30 }));
    const held = await d.outbound.heldUntil('default', to);
    expect(held).toBeGreaterThanOrEqual(before + 30_000);
    expect(held).toBeLessThanOrEqual(after + 30_000);
  });

  it('pauses the channel for a throttle’s Retry-After, not the 1 s default (Cloud 130429 under HTTP 400, and HTTP 429)', async () => {
    const cloudStyle = await sendOne(() => sim.failNextCode(130429, 1, { retryAfter: 7 }));
    expect(await gatePttl(cloudStyle.prefix)).toBeGreaterThan(6_000);
    expect(await gatePttl(cloudStyle.prefix)).toBeLessThanOrEqual(7_000);
    expect(await cloudStyle.d.outbound.gateState('default', Date.now())).toMatchObject({ state: 'paused', reason: 'throughput', code: 130429 });
    sim.setKnobs({ retryAfterSeconds: 5 });
    try {
      const http429 = await sendOne(() => sim.failNext(429, 1));
      expect(await gatePttl(http429.prefix)).toBeGreaterThan(4_000);
      expect(await gatePttl(http429.prefix)).toBeLessThanOrEqual(5_000);
    } finally {
      sim.setKnobs({ retryAfterSeconds: 1 });
    }
    // Without Retry-After: the first throughput pause is 1 s.
    const bare = await sendOne(() => sim.failNextCode(80007, 1));
    expect(await gatePttl(bare.prefix)).toBeLessThanOrEqual(1_000);
    expect(await gatePttl(bare.prefix)).toBeGreaterThan(0);
  });

  it('pauses the channel for QUALITY_PAUSE_S on 131048, fails nothing, spends no attempt, and emits channel.paused', async () => {
    const events: unknown[] = [];
    const emit = async (e: unknown) => void events.push(e);
    const { d, prefix, id } = await sendOne(() => sim.failNextCode(131048, 1), { policy: { ...policy, qualityPauseMs: 45_000 }, emit });
    expect(await gatePttl(prefix)).toBeGreaterThan(44_000);
    expect(await gatePttl(prefix)).toBeLessThanOrEqual(45_000);
    const rec = await d.store.get(id);
    expect(rec?.status).not.toBe('failed');
    expect(rec?.attempts.at(-1)).toMatchObject({ outcome: 'throttled', httpStatus: 400 });
    expect(await redis.hget(`${prefix}:msg:${id}`, 'failures')).toBeNull();
    expect(events).toEqual([expect.objectContaining({ type: 'channel.paused', channel: 'default', data: expect.objectContaining({ channel: 'default', reason: 'quality', code: 131048 }) })]);
    // Claims find the channel paused; the message waits at its recipient's head.
    expect((await d.outbound.claim(1, Date.now(), CLAIM)).state).toBe('paused');
  });

  it('stops the channel on 368 and 131031 (either API), keeping the message unfailed at its recipient’s head', async () => {
    for (const code of [368, 131031]) {
      const events: unknown[] = [];
      const { d, prefix, id } = await sendOne(() => sim.failNextCode(code, 1), { emit: async (e) => void events.push(e) });
      expect(await gatePttl(prefix)).toBe(-1);
      expect(await d.outbound.gateState('default', Date.now())).toMatchObject({ state: 'stopped', reason: 'restricted', code });
      expect((await d.store.get(id))?.status).toBe('sending');
      expect(events).toEqual([expect.objectContaining({ type: 'channel.stopped', data: expect.objectContaining({ code, until: null }) })]);
      await d.outbound.changeGate('default', { action: 'resume' }, Date.now(), 1000);
      const [again] = (await d.outbound.claim(1, Date.now(), CLAIM)).leases;
      expect(again?.id).toBe(id);
    }
  });

  it('holds only the recipient on 131056, 6 s then 12 s, with no channel pause', async () => {
    const { d, prefix, to, before } = await sendOne(() => sim.failNextCode(131056, 2));
    const first = await d.outbound.heldUntil('default', to);
    expect(first! - before).toBeGreaterThanOrEqual(6_000);
    expect(first! - before).toBeLessThan(6_000 + 1_000);
    expect(await gatePttl(prefix)).toBe(-2);
    const [lease] = (await d.outbound.claim(1, first!, CLAIM)).leases;
    const t = Date.now();
    await sendLeased(d, lease!, Date.now() + 5_000, { leaseMs: 30_000 });
    const second = await d.outbound.heldUntil('default', to);
    expect(second! - t).toBeGreaterThanOrEqual(12_000);
    expect(second! - t).toBeLessThan(12_000 + 1_000);
  });
});
