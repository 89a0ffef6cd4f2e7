import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound, PartitionKeys } from './index.js';
import type { Lease } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const TO = '905551112233';
const body = JSON.stringify({
  to: TO,
  type: 'template',
  template: { name: 'order_shipped', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '#100001' }, { type: 'text', text: 'Thursday' }] }] },
});
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const PRICING = { billable: true, model: 'PMP', category: 'utility', type: 'regular' } as const;
/** A Cloud wamid's usual length (57 characters). */
const wamidOf = (id: string) => `wamid.HBgMOTA1NTUxMTEyMjMzFQIAERgSQjE${id.padEnd(16, '0').slice(0, 16)}AA==`;

function setup(recordTtlS = 3600) {
  const prefix = uniquePrefix();
  return {
    keys: new PartitionKeys(prefix),
    out: new Outbound({ redis, prefix, recordTtlS }),
    store: new MessageStore({ redis, prefix, recordTtlS }),
  };
}

async function claimOne(out: Outbound, now: number): Promise<Lease> {
  const c = await out.claim(10, now, FAST);
  expect(c.leases).toHaveLength(1);
  return c.leases[0]!;
}

describe('the record layout', () => {
  it('keeps a sent, delivered and read template record a listpack (every value under 64 bytes)', async () => {
    const { out, store, keys } = setup();
    await out.accept({ id: 'lp1', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: 1000, body });
    const lease = await claimOne(out, 2000);
    await out.settle(lease, 2100, { kind: 'sent', wamid: wamidOf('lp1') }, { at: new Date(2100).toISOString(), outcome: 'sent', httpStatus: 200 });
    await store.applyStatus(wamidOf('lp1'), 'delivered', 3000, undefined, 3, 'default', TO, PRICING);
    await store.applyStatus(wamidOf('lp1'), 'read', 4000, undefined, 4, 'default', TO, PRICING);
    expect(await redis.call('OBJECT', 'ENCODING', keys.record('lp1'))).toBe('listpack');
    // Channel `default` is not written; the record still names it.
    expect(await redis.hexists(keys.record('lp1'), 'channel')).toBe(0);
    const rec = await store.get('lp1');
    expect(rec).toMatchObject({ status: 'read', channel: 'default', cbotMessageId: wamidOf('lp1'), pricing: PRICING });
    expect(rec?.attempts).toEqual([{ at: new Date(2100).toISOString(), outcome: 'sent', httpStatus: 200 }]);
    // Delivered: the body is no longer kept.
    expect(await redis.exists(keys.body('lp1'))).toBe(0);
  });

  it("claims, retries, sends and reads a record written in the previous release's layout", async () => {
    const { out, store, keys } = setup();
    await out.accept({ id: 'old1', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: 1000, body });
    // The previous release wrote `channel` always and every attempt as a JSON line.
    const oldAttempt = { at: new Date(1500).toISOString(), outcome: 'throttled', httpStatus: 429, error: 'rate limited' } as const;
    await redis.hset(keys.record('old1'), 'channel', 'default', 'attempts', JSON.stringify({ at: new Date(1200).toISOString(), outcome: 'sent', httpStatus: 200 }) + '\n' + JSON.stringify(oldAttempt));
    const first = await claimOne(out, 2000);
    expect(first.body).toBe(body);
    const retry = { at: new Date(2100).toISOString(), outcome: 'retry', httpStatus: 500 } as const;
    await expect(out.retry(first, 2100, { untilMs: 2500, countsAsFailure: true, keepInflight: false, maxAttempts: 5, error: { message: 'x' } }, retry)).resolves.toMatchObject({ kind: 'held' });
    const second = await claimOne(out, 3000);
    await out.settle(second, 3100, { kind: 'sent', wamid: wamidOf('old1') }, { at: new Date(3100).toISOString(), outcome: 'sent', httpStatus: 200 });
    await store.applyStatus(wamidOf('old1'), 'read', 4000, undefined, 4, 'default', TO);
    const rec = await store.get('old1');
    expect(rec).toMatchObject({ status: 'read', channel: 'default', cbotMessageId: wamidOf('old1') });
    expect(rec?.attempts).toEqual([
      { at: new Date(1200).toISOString(), outcome: 'sent', httpStatus: 200 },
      oldAttempt,
      retry,
      { at: new Date(3100).toISOString(), outcome: 'sent', httpStatus: 200 },
    ]);
  });

  it("replays a dead letter of the previous release's layout from its body key", async () => {
    const { out, store, keys } = setup();
    await out.accept({ id: 'old2', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: 1000, body });
    await redis.hset(keys.record('old2'), 'channel', 'default');
    const lease = await claimOne(out, 2000);
    await out.settle(lease, 2100, { kind: 'failed', error: { code: 131026 } }, { at: new Date(2100).toISOString(), outcome: 'failed', httpStatus: 400, error: 'undeliverable' });
    expect((await store.deadLetterIds(undefined, 10)).ids).toEqual(['old2']);
    await expect(out.replay('old2', 3000)).resolves.toEqual({ kind: 'replayed', to: TO });
    const again = await claimOne(out, 4000);
    expect(again).toMatchObject({ id: 'old2', body });
    const attempts = (await store.get('old2'))?.attempts.map((a) => a.outcome);
    expect(attempts).toEqual(['failed', 'replayed']);
  });

  it('drops dead-letter entries whose records have expired when another message fails', async () => {
    const { out, store, keys } = setup(10);
    // A dead letter of a record that expired long ago (10 s retention): nothing else would remove it.
    await redis.zadd(keys.deadLetters, 1000, 'gone1');
    await out.accept({ id: 'f1', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: 60_000, body });
    const lease = await claimOne(out, 60_000);
    await out.settle(lease, 60_100, { kind: 'failed', error: { code: 131026 } });
    expect((await store.deadLetterIds(undefined, 10)).ids).toEqual(['f1']);
  });
});

describe('the wamid mapping', () => {
  it('lives in a day bucket; the one-key mapping is written for an hour only, and one written by the previous release is still read', async () => {
    const { out, store, keys } = setup();
    const ch = keys.channel('default');
    await out.accept({ id: 'wm1', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: Date.now(), body });
    const lease = await claimOne(out, Date.now());
    await out.settle(lease, Date.now(), { kind: 'sent', wamid: wamidOf('wm1') });
    const ttl = await redis.ttl(ch.wamid(wamidOf('wm1')));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
    // An hour on: only the bucket is left, and it is enough for statuses and the console's look-up.
    await redis.del(ch.wamid(wamidOf('wm1')));
    await expect(store.applyStatus(wamidOf('wm1'), 'delivered', Date.now(), undefined, undefined, 'default', TO)).resolves.toMatchObject({ relayId: 'wm1', applied: true });
    await expect(store.byWamid(wamidOf('wm1'), ['default'])).resolves.toBe('wm1');
    const buckets = await redis.keys(`${ch.base}:wm:*`);
    expect(buckets).toHaveLength(1);
    expect(await redis.call('OBJECT', 'ENCODING', buckets[0]!)).toBe('listpack');
    expect(await redis.ttl(buckets[0]!)).toBeGreaterThan(8 * 86_400 - 60);

    // The previous release wrote one key per wamid, with no bucket.
    await out.accept({ id: 'wm2', to: '905551112234', type: 'template', caller: 'crm', priority: 'normal', nowMs: Date.now(), body });
    const old = await claimOne(out, Date.now());
    await out.settle(old, Date.now(), { kind: 'sent', wamid: wamidOf('wm2') });
    for (const b of await redis.keys(`${ch.base}:wm:*`)) await redis.del(b);
    await redis.set(ch.wamid(wamidOf('wm2')), 'wm2', 'EX', 8 * 86_400);
    await expect(store.applyStatus(wamidOf('wm2'), 'read', Date.now(), undefined, undefined, 'default', TO)).resolves.toMatchObject({ relayId: 'wm2', applied: true });
    await expect(store.byWamid(wamidOf('wm2'), ['default'])).resolves.toBe('wm2');
    // Nobody's wamid: unknown, as before.
    await expect(store.byWamid('wamid.nobody', ['default'])).resolves.toBeUndefined();
  });

  it('finds a mapping written days ago, up to its TTL', async () => {
    const { out, store, keys } = setup();
    const day = 86_400_000;
    const sentAt = Date.now() - 6 * day;
    await out.accept({ id: 'wm3', to: TO, type: 'template', caller: 'crm', priority: 'normal', nowMs: sentAt, body });
    const lease = await claimOne(out, sentAt);
    await out.settle(lease, sentAt, { kind: 'sent', wamid: wamidOf('wm3') });
    await redis.del(keys.channel('default').wamid(wamidOf('wm3')));
    await expect(store.byWamid(wamidOf('wm3'), ['default'])).resolves.toBe('wm3');
    await expect(store.applyStatus(wamidOf('wm3'), 'read', Date.now(), undefined, undefined, 'default', TO)).resolves.toMatchObject({ relayId: 'wm3' });
  });
});
