import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { Outbound, PAIR_FIRST_MS, PAIR_MAX_MS } from './index.js';
import type { AcceptInput, Lease } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const base = { to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', body } as const;
const FAST = { leaseMs: 60_000, maxAgeMs: 86_400_000 * 3, ratePerSecond: 1_000_000 };
const QUALITY_MS = 900_000;
const HOUR = 3_600_000;

function setup(partitions = 1) {
  const prefix = uniquePrefix();
  return { prefix, out: new Outbound({ redis, prefix, recordTtlS: 3600, partitions }) };
}
let seq = 0;
async function accept(out: Outbound, nowMs: number, over: Partial<AcceptInput> = {}): Promise<{ id: string }> {
  const r = await out.accept({ ...base, id: `g${++seq}`, nowMs, ...over });
  if (r.kind !== 'created') throw new Error(`accept: ${r.kind}`);
  return r;
}
/** The gate's remaining time as Redis counts it (ms; -1: held until resumed, -2: none). */
const pttl = (prefix: string, channel = 'default') => redis.pttl(channel === 'default' ? `${prefix}:gate:pause` : `${prefix}:c:${channel}:gate:pause`);
/** A pause running out, without waiting for it. */
const expire = (prefix: string) => redis.del(`${prefix}:gate:pause`);
const near = (ms: number) => expect.closeTo(ms, -3);

describe('channel gate', () => {
  it('pauses on a throughput throttle for 1 s, doubling per repeat to 60 s; Retry-After wins; a throttle during the pause does not escalate', async () => {
    const { out, prefix } = setup();
    let now = 1_000_000;
    const first = await out.changeGate('default', { action: 'throughput', code: 130429 }, now, QUALITY_MS);
    expect(first).toMatchObject({ changed: true, state: { state: 'paused', reason: 'throughput', code: 130429, untilMs: now + 1000 } });
    // Sends in flight when the pause began come back throttled too: no escalation, no new event.
    expect((await out.changeGate('default', { action: 'throughput', code: 130429 }, now + 10, QUALITY_MS)).changed).toBe(false);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      await expire(prefix);
      now += 2_000;
      waits.push((await out.changeGate('default', { action: 'throughput' }, now, QUALITY_MS)).state.untilMs! - now);
    }
    expect(waits).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    // Retry-After replaces the escalating wait.
    await expire(prefix);
    const ra = await out.changeGate('default', { action: 'throughput', retryAfterMs: 7_000 }, now, QUALITY_MS);
    expect(ra.state.untilMs! - now).toBe(7_000);
    expect(await pttl(prefix)).toEqual(near(7_000));
    // A longer Retry-After during a pause extends it; a shorter one does not shorten it.
    expect((await out.changeGate('default', { action: 'throughput', retryAfterMs: 3_000 }, now, QUALITY_MS)).changed).toBe(false);
    expect((await out.changeGate('default', { action: 'throughput', retryAfterMs: 20_000 }, now, QUALITY_MS)).state.untilMs! - now).toBe(20_000);
    // Retry-After: 0 asks for no wait: no pause.
    await expire(prefix);
    expect(await out.changeGate('default', { action: 'throughput', retryAfterMs: 0 }, now, QUALITY_MS)).toMatchObject({ changed: false, state: { state: 'active' } });
    // Five minutes without a throttle: back to 1 s.
    await expire(prefix);
    now += 400_000;
    expect((await out.changeGate('default', { action: 'throughput' }, now, QUALITY_MS)).state.untilMs! - now).toBe(1000);
  });

  it('pauses for QUALITY_PAUSE_S on 131048, doubling on a repeat within 24 h up to 24 h, and starting over after a quiet day', async () => {
    const { out, prefix } = setup();
    let now = 5_000_000;
    const first = await out.changeGate('default', { action: 'quality', code: 131048 }, now, QUALITY_MS);
    expect(first.state).toMatchObject({ state: 'paused', reason: 'quality', code: 131048, untilMs: now + QUALITY_MS });
    expect(await pttl(prefix)).toEqual(near(QUALITY_MS));
    // Others in flight answer 131048 too: the pause neither doubles nor moves.
    expect((await out.changeGate('default', { action: 'quality', code: 131048 }, now + 5, QUALITY_MS)).changed).toBe(false);
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      await expire(prefix);
      now += HOUR;
      pauses.push((await out.changeGate('default', { action: 'quality', code: 131048 }, now, QUALITY_MS)).state.untilMs! - now);
    }
    expect(pauses).toEqual([2, 4, 8, 16, 32, 64, 96, 96].map((q) => Math.min(q * QUALITY_MS, 86_400_000)));
    await expire(prefix);
    now += 25 * HOUR;
    expect((await out.changeGate('default', { action: 'quality' }, now, QUALITY_MS)).state.untilMs! - now).toBe(QUALITY_MS);
  });

  it('stops on 368 until a resume: claims find it paused, throttles and pauses change nothing, the resume wakes dispatchers', async () => {
    const { out, prefix } = setup();
    const now = 9_000_000;
    await accept(out, now);
    const stop = await out.changeGate('default', { action: 'stop', code: 368 }, now, QUALITY_MS);
    expect(stop.state).toEqual({ state: 'stopped', reason: 'restricted', code: 368, seq: expect.any(Number), atMs: now });
    expect(await pttl(prefix)).toBe(-1);
    expect(await out.claim(10, now, FAST)).toMatchObject({ leases: [], state: 'paused' });
    for (const change of [{ action: 'throughput' }, { action: 'quality' }, { action: 'pause', ms: 1000 }, { action: 'stop', code: 131031 }] as const) {
      expect((await out.changeGate('default', change, now, QUALITY_MS)).changed).toBe(false);
    }
    expect(await out.gateState('default', now)).toMatchObject({ state: 'stopped', code: 368 });
    const sub = redis.duplicate();
    const woke = new Promise<string>((resolve) => sub.on('message', (channel: string) => resolve(channel)));
    await sub.subscribe(out.wakeChannels[0]!);
    const resume = await out.changeGate('default', { action: 'resume' }, now + 1, QUALITY_MS);
    expect(resume).toMatchObject({ changed: true, state: { state: 'active', reason: 'operator' } });
    expect(resume.state.seq).toBeGreaterThan(stop.state.seq!);
    expect(await woke).toBe(out.wakeChannels[0]);
    sub.disconnect();
    expect(await out.gateState('default', now)).toEqual({ state: 'active' });
    expect((await out.claim(10, now + 1, FAST)).leases).toHaveLength(1);
    // Resuming an active channel changes nothing (no second channel.resumed).
    expect((await out.changeGate('default', { action: 'resume' }, now + 2, QUALITY_MS)).changed).toBe(false);
  });

  it('pauses by an operator until resumed (no expiry) or for seconds, replacing an automatic pause', async () => {
    const { out, prefix } = setup();
    const now = 12_000_000;
    await out.changeGate('sales', { action: 'quality' }, now, QUALITY_MS);
    const held = await out.changeGate('sales', { action: 'pause' }, now, QUALITY_MS);
    expect(held.state).toMatchObject({ state: 'paused', reason: 'operator' });
    expect(held.state.untilMs).toBeUndefined();
    expect(await pttl(prefix, 'sales')).toBe(-1);
    // An automatic pause does not replace a pause held until resumed.
    expect((await out.changeGate('sales', { action: 'throughput', retryAfterMs: 60_000 }, now, QUALITY_MS)).changed).toBe(false);
    const timed = await out.changeGate('sales', { action: 'pause', ms: 30_000 }, now, QUALITY_MS);
    expect(timed.state.untilMs).toBe(now + 30_000);
    expect(await pttl(prefix, 'sales')).toEqual(near(30_000));
    // Channel default is untouched.
    expect(await out.gateState('default', now)).toEqual({ state: 'active' });
  });

  it('writes a pause to every partition, so a claim in any of them holds back', async () => {
    const { out } = setup(3);
    const now = 20_000_000;
    const msgs = await Promise.all(['905550000001', '905550000002', '905550000003', '905550000004', '905550000005', '905550000006'].map((to) => accept(out, now, { to })));
    expect(msgs).toHaveLength(6);
    await out.changeGate('default', { action: 'stop', code: 131031 }, now, QUALITY_MS);
    for (const b of out.partitions.bases) expect(await redis.pttl(`${b}:gate:pause`)).toBe(-1);
    for (let k = 0; k < 3; k++) expect((await out.claim(10, now, FAST, 'default', k)).state).toBe('paused');
    await out.changeGate('default', { action: 'resume' }, now, QUALITY_MS);
    for (const b of out.partitions.bases) expect(await redis.exists(`${b}:gate:pause`)).toBe(0);
    let leased = 0;
    for (let k = 0; k < 3; k++) leased += (await out.claim(10, now, FAST, 'default', k)).leases.length;
    expect(leased).toBeGreaterThan(0);
  });
});

describe('pair rate limit (131056) holds', () => {
  async function throttledOnce(out: Outbound, lease: Lease, now: number, retryAfterMs?: number) {
    const opts = { untilMs: now + 1000, countsAsFailure: false, keepInflight: false, maxAttempts: 3, error: { code: 131056 }, pairRateLimit: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    return out.retry(lease, now, opts, { at: new Date(now).toISOString(), outcome: 'throttled' });
  }

  it('holds only that recipient 6 s, then doubling to 5 min, not as an attempt; Retry-After wins; a send that goes through starts over', async () => {
    const { out } = setup();
    let now = 30_000_000;
    const a = await accept(out, now);
    await accept(out, now, { to: '905559998877' });
    const holds: number[] = [];
    for (let i = 0; i < 8; i++) {
      const claim = await out.claim(10, now, FAST);
      const lease = claim.leases.find((l) => l.id === a.id)!;
      // The other recipient is not held by this one's pair limit.
      if (i === 0) expect(claim.leases).toHaveLength(2);
      const r = await throttledOnce(out, lease, now);
      expect(r).toMatchObject({ kind: 'held', failures: 0 });
      expect(await out.heldUntil('default', base.to)).toBe(r.untilMs);
      holds.push(r.untilMs! - now);
      now = r.untilMs!;
    }
    expect(holds).toEqual([6, 12, 24, 48, 96, 192, 300, 300].map((s) => Math.min(s * 1000, PAIR_MAX_MS)));
    let lease = (await out.claim(10, now, FAST)).leases.find((l) => l.id === a.id)!;
    const ra = await throttledOnce(out, lease, now, 2_500);
    expect(ra.untilMs! - now).toBe(2_500);
    now = ra.untilMs!;
    lease = (await out.claim(10, now, FAST)).leases.find((l) => l.id === a.id)!;
    await out.settle(lease, now, { kind: 'sent', wamid: 'wamid.pair' });
    // Its next message starts at 6 s again.
    const b = await accept(out, now);
    lease = (await out.claim(10, now, FAST)).leases.find((l) => l.id === b.id)!;
    expect((await throttledOnce(out, lease, now)).untilMs! - now).toBe(PAIR_FIRST_MS);
  });

  it('holds a waiting recipient when a failed status callback reports 131056, and only bumps a leased one', async () => {
    const { out } = setup();
    const now = 40_000_000;
    await accept(out, now);
    expect(await out.holdRecipient('default', base.to, now)).toEqual({ held: true, untilMs: now + PAIR_FIRST_MS });
    expect((await out.claim(10, now, FAST)).leases).toHaveLength(0);
    const lease = (await out.claim(10, now + PAIR_FIRST_MS, FAST)).leases[0]!;
    expect(await out.holdRecipient('default', base.to, now + PAIR_FIRST_MS)).toEqual({ held: false, untilMs: now + 3 * PAIR_FIRST_MS });
    // The lease is still good, and the next hold is longer.
    const r = await throttledOnce(out, lease, now + PAIR_FIRST_MS);
    expect(r.untilMs! - (now + PAIR_FIRST_MS)).toBe(4 * PAIR_FIRST_MS);
    // An idle recipient has nothing to hold.
    expect((await out.holdRecipient('default', '905550001111', now)).held).toBe(false);
  });
});
