import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { Outbound, PartitionKeys } from './index.js';
import type { OutboundOptions } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const body = (to: string) => JSON.stringify({ to, type: 'text', text: { body: 'hi' } });

function setup(opts: Partial<OutboundOptions> = {}) {
  const prefix = uniquePrefix();
  return { prefix, out: new Outbound({ redis, prefix, recordTtlS: 3600, ...opts }) };
}
const receipt = (out: Outbound, wamid: string, over: { channel?: string; typing?: boolean; nowMs?: number } = {}) =>
  out.acceptReceipt({ wamid, channel: 'default', typing: false, caller: 'crm', nowMs: 1000, ...over });

describe('read receipts in the outbound scheduler', () => {
  it('are queued once per wamid and channel, for the idempotency window', async () => {
    const { out, prefix } = setup({ receiptTtlS: 5 });
    await expect(receipt(out, 'wamid.A')).resolves.toBe('created');
    await expect(receipt(out, 'wamid.A', { typing: true })).resolves.toBe('duplicate');
    await expect(receipt(out, 'wamid.A', { channel: 'sales' })).resolves.toBe('created');
    const ch = new PartitionKeys(prefix).channel('default');
    expect(await redis.ttl(ch.receipt('wamid.A'))).toBeGreaterThan(0);
    expect(await redis.zrange(ch.receipts, '0', '-1')).toEqual(['wamid.A']);
    // Still remembered once it was sent: a later POST sends nothing more.
    const c = await out.claim(10, 2000, FAST);
    expect(c.receipts.map((r) => r.wamid)).toEqual(['wamid.A']);
    await expect(out.settleReceipt(c.receipts[0]!, { kind: 'sent' })).resolves.toEqual({ kind: 'sent', failures: 0 });
    await expect(receipt(out, 'wamid.A')).resolves.toBe('duplicate');
    expect((await out.claim(10, 3000, FAST)).receipts).toEqual([]);
  });

  it('go before every queued message and spend the channel rate like messages', async () => {
    const { out } = setup();
    for (let i = 0; i < 20; i++) await out.accept({ id: `m${i}`, to: `9055${i}`, type: 'text', caller: 'crm', priority: 'high', nowMs: 1000, body: body(`9055${i}`) });
    for (let i = 0; i < 5; i++) await receipt(out, `wamid.${i}`, { typing: i === 0 });
    const c = await out.claim(8, 2000, FAST);
    expect(c.receipts.map((r) => r.wamid)).toEqual(['wamid.0', 'wamid.1', 'wamid.2', 'wamid.3', 'wamid.4']);
    expect(c.receipts[0]).toMatchObject({ typing: true, failures: 0, caller: 'crm', channel: 'default', partition: 0 });
    expect(c.receipts[1]!.typing).toBe(false);
    expect(c.leases).toHaveLength(3);
    expect(c.state).toBe('more');

    // At 10 per second (a burst of 1): one token, taken by the receipt, not by the waiting messages.
    const slow = setup();
    await slow.out.accept({ id: 'm1', to: '9056', type: 'text', caller: 'crm', priority: 'high', nowMs: 1000, body: body('9056') });
    await receipt(slow.out, 'wamid.S');
    const s = await slow.out.claim(8, 2000, { ...FAST, ratePerSecond: 10 });
    expect(s.receipts.map((r) => r.wamid)).toEqual(['wamid.S']);
    expect(s.leases).toEqual([]);
    expect(s.state).toBe('rate');
    expect(s.waitMs).toBeGreaterThan(0);
  });

  it('are retried until the attempts run out, fenced by the lease, and leased again when a worker dies', async () => {
    const { out, prefix } = setup();
    await receipt(out, 'wamid.R');
    const first = (await out.claim(1, 2000, { ...FAST, leaseMs: 1000 })).receipts[0]!;
    // Held until 5000: not served before.
    await expect(out.settleReceipt(first, { kind: 'retry', untilMs: 5000, counts: true, maxAttempts: 3, error: { message: 'HTTP 503' } })).resolves.toEqual({ kind: 'held', failures: 1 });
    await expect(out.settleReceipt(first, { kind: 'sent' })).resolves.toMatchObject({ kind: 'stale' });
    const idle = await out.claim(1, 4000, FAST);
    expect(idle.receipts).toEqual([]);
    expect(idle).toMatchObject({ state: 'idle', waitMs: 1000 });
    const second = (await out.claim(1, 5000, { ...FAST, leaseMs: 1000 })).receipts[0]!;
    expect(second.failures).toBe(1);
    // A throttle does not count.
    await out.settleReceipt(second, { kind: 'retry', untilMs: 6000, counts: false, maxAttempts: 3, error: {} });
    // The worker dies with the lease: it falls due at the lease's end (7000 + 1000).
    const third = (await out.claim(1, 7000, { ...FAST, leaseMs: 1000 })).receipts[0]!;
    expect((await out.claim(1, 7500, FAST)).receipts).toEqual([]);
    const fourth = (await out.claim(1, 8000, FAST)).receipts[0]!;
    expect(fourth.token).not.toBe(third.token);
    await expect(out.settleReceipt(third, { kind: 'sent' })).resolves.toMatchObject({ kind: 'stale' });
    await expect(out.settleReceipt(fourth, { kind: 'retry', untilMs: 9000, counts: true, maxAttempts: 2, error: { message: 'HTTP 500' } })).resolves.toEqual({
      kind: 'failed',
      failures: 2,
    });
    const ch = new PartitionKeys(prefix).channel('default');
    expect(await redis.hget(ch.receipt('wamid.R'), 's')).toBe('failed');
    expect(await redis.zcard(ch.receipts)).toBe(0);
  });

  it('drop a receipt past the maximum age or whose window closed, and wake an idle dispatcher', async () => {
    const { out, prefix } = setup();
    const ch = new PartitionKeys(prefix).channel('default');
    await receipt(out, 'wamid.old', { nowMs: 1000 });
    await receipt(out, 'wamid.gone', { nowMs: 1000 });
    await redis.del(ch.receipt('wamid.gone'));
    const c = await out.claim(5, 1000 + FAST.maxAgeMs + 1, FAST);
    expect(c.receipts).toEqual([]);
    expect(c.droppedReceipts).toEqual(expect.arrayContaining([{ reason: 'max_age', wamid: 'wamid.old' }, { reason: 'missing', wamid: 'wamid.gone' }]));
    expect(c.state).toBe('idle');
    const sub = redis.duplicate();
    const woke = new Promise<string>((resolve) => sub.on('message', (channel: string) => resolve(channel)));
    await sub.subscribe(out.wakeChannels[0]!);
    await receipt(out, 'wamid.new', { nowMs: 5000 });
    await expect(woke).resolves.toBe(out.wakeChannels[0]);
    sub.disconnect();
  });

  it('are bounded per channel like the backlog', async () => {
    const { out } = setup({ backlogMax: 2 });
    expect(await Promise.all(['a', 'b', 'c'].map((w) => receipt(out, w)))).toEqual(['created', 'created', 'full']);
  });

  it('live in the partition their wamid hashes to and are claimed there', async () => {
    const { out } = setup({ partitions: 4 });
    const wamids = Array.from({ length: 12 }, (_, i) => `wamid.P${i}`);
    for (const w of wamids) await receipt(out, w);
    const got: string[] = [];
    for (let k = 0; k < 4; k++) {
      const c = await out.claim(20, 2000, FAST, 'default', k);
      for (const r of c.receipts) {
        expect(r.partition).toBe(k);
        expect(out.partitions.ofRecipient(r.wamid)).toBe(k);
        await out.settleReceipt(r, { kind: 'sent' });
        got.push(r.wamid);
      }
    }
    expect(got.sort()).toEqual([...wamids].sort());
  });
});
