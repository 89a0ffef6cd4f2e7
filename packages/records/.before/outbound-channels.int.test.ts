import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound } from './index.js';
import type { AcceptInput } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const base = { to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', body, nowMs: 1000 } as const;
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };

function setup() {
  const prefix = uniquePrefix();
  return { prefix, out: new Outbound({ redis, prefix, recordTtlS: 3600 }), store: new MessageStore({ redis, prefix, recordTtlS: 3600 }) };
}
let seq = 0;
async function accept(out: Outbound, over: Partial<AcceptInput> = {}): Promise<{ id: string }> {
  const r = await out.accept({ ...base, id: `c${++seq}`, ...over });
  if (r.kind !== 'created') throw new Error(`accept: ${r.kind}`);
  return r;
}

describe('Outbound channels', () => {
  it('keeps channel default on the relay prefix (the key names from before channels) and others under :c:<id>', async () => {
    const { out, prefix, store } = setup();
    const a = await accept(out);
    const b = await accept(out, { channel: 'support-tr' });
    expect(await redis.lrange(`${prefix}:o:q:905551112233`, 0, -1)).toEqual([`n${a.id}`]);
    expect(await redis.lrange(`${prefix}:c:support-tr:o:q:905551112233`, 0, -1)).toEqual([`n${b.id}`]);
    expect((await store.get(a.id))?.channel).toBe('default');
    expect((await store.get(b.id))?.channel).toBe('support-tr');
    expect(await out.queuedByChannel()).toEqual({ default: 1, 'support-tr': 1 });
  });

  it('sends a message queued before channels existed (no channel field) on channel default', async () => {
    const { out, prefix } = setup();
    const old = await accept(out);
    // As a relay from before channels left it: no channel on the record, no per-channel count.
    await redis.hdel(`${prefix}:msg:${old.id}`, 'channel');
    await redis.del(`${prefix}:channels`);
    expect(await out.queuedByChannel()).toEqual({ default: 1 });
    const claim = await out.claim(10, 2000, FAST);
    expect(claim.leases.map((l) => [l.id, l.channel])).toEqual([[old.id, 'default']]);
    await out.settle(claim.leases[0]!, 2000, { kind: 'sent', wamid: 'wamid.old' });
    expect(await redis.get(`${prefix}:wamid:wamid.old`)).toBe(old.id);
  });

  it('gives the same recipient on two channels two conversations, each in its own order', async () => {
    const { out, prefix } = setup();
    const a1 = await accept(out, { channel: 'sales' });
    const a2 = await accept(out, { channel: 'sales' });
    const b1 = await accept(out, { channel: 'support' });
    const sales = await out.claim(10, 2000, FAST, 'sales');
    const support = await out.claim(10, 2000, FAST, 'support');
    // Both channels have the recipient leased at once; within sales, a2 waits behind a1.
    expect(sales.leases.map((l) => l.id)).toEqual([a1.id]);
    expect(support.leases.map((l) => l.id)).toEqual([b1.id]);
    expect(support.leases[0]!.channel).toBe('support');
    await out.settle(sales.leases[0]!, 2000, { kind: 'sent', wamid: 'wamid.s1' });
    await out.settle(support.leases[0]!, 2000, { kind: 'sent', wamid: 'wamid.s1' });
    // Status correlation is per channel: the same wamid on two numbers maps to two messages.
    expect(await redis.get(`${prefix}:c:sales:wamid:wamid.s1`)).toBe(a1.id);
    expect(await redis.get(`${prefix}:c:support:wamid:wamid.s1`)).toBe(b1.id);
    expect((await out.claim(10, 2000, FAST, 'sales')).leases.map((l) => l.id)).toEqual([a2.id]);
    expect(await out.queuedByChannel()).toEqual({ sales: 1 });
  });

  it('pauses one channel without stopping another', async () => {
    const { out } = setup();
    await accept(out, { channel: 'sales', to: '1001' });
    await accept(out, { channel: 'support', to: '1002' });
    await out.pause(60_000, 'sales');
    expect(await out.claim(10, 2000, FAST, 'sales')).toMatchObject({ leases: [], state: 'paused' });
    const support = await out.claim(10, 2000, FAST, 'support');
    expect(support.leases.map((l) => l.to)).toEqual(['1002']);
  });

  it('holds each channel to its own rate', async () => {
    const { out } = setup();
    for (let i = 0; i < 5; i++) {
      await accept(out, { channel: 'slow', to: `20${i}` });
      await accept(out, { channel: 'fast', to: `30${i}` });
    }
    const slow = await out.claim(10, 2000, { ...FAST, ratePerSecond: 1 }, 'slow');
    const fast = await out.claim(10, 2000, FAST, 'fast');
    expect(slow.leases).toHaveLength(1);
    expect(slow.state).toBe('rate');
    expect(fast.leases).toHaveLength(5);
  });

  it('replays a failed message onto its own channel', async () => {
    const { out, prefix } = setup();
    const m = await accept(out, { channel: 'support' });
    const [lease] = (await out.claim(10, 2000, FAST, 'support')).leases;
    await out.settle(lease!, 2000, { kind: 'failed', error: { message: 'x' } });
    expect(await out.replay(m.id, 3000)).toEqual({ kind: 'replayed', to: '905551112233' });
    expect(await redis.lrange(`${prefix}:c:support:o:q:905551112233`, 0, -1)).toEqual([`n${m.id}`]);
    expect(await redis.exists(`${prefix}:o:q:905551112233`)).toBe(0);
  });
});
