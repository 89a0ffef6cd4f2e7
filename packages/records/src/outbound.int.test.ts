import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound } from './index.js';
import type { AcceptInput, Claim, Lease, OutboundOptions } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const base = { to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', body } as const;
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };

function setup(opts: Partial<OutboundOptions> = {}) {
  const prefix = uniquePrefix();
  return {
    prefix,
    out: new Outbound({ redis, prefix, recordTtlS: 3600, ...opts }),
    store: new MessageStore({ redis, prefix, recordTtlS: 3600 }),
  };
}

let seq = 0;
const accept = (out: Outbound, over: Partial<AcceptInput> = {}) => out.accept({ ...base, id: `m${++seq}`, nowMs: 1000, ...over });
const ids = (c: Claim) => c.leases.map((l) => l.id);
const sent = (out: Outbound, l: Lease, now = 2000) => out.settle(l, now, { kind: 'sent', wamid: `wamid.${l.id}` });

describe('Outbound accept', () => {
  it('accepts once per idempotency key and tells conflicts apart', async () => {
    const { out } = setup();
    const idempotency = { key: 'k1', fingerprint: 'f1' };
    await expect(out.accept({ ...base, id: 'msg_a', nowMs: 1, idempotency })).resolves.toEqual({ kind: 'created', id: 'msg_a', window: 'unknown' });
    await expect(out.accept({ ...base, id: 'msg_b', nowMs: 2, idempotency })).resolves.toEqual({ kind: 'duplicate', id: 'msg_a', window: 'unknown' });
    await expect(out.accept({ ...base, id: 'msg_c', nowMs: 3, idempotency: { key: 'k1', fingerprint: 'other' } })).resolves.toEqual({
      kind: 'conflict',
      id: 'msg_a',
    });
    // The key is the caller's: another caller's same key is a new message.
    await expect(out.accept({ ...base, caller: 'billing', id: 'msg_d', nowMs: 4, idempotency })).resolves.toEqual({ kind: 'created', id: 'msg_d', window: 'unknown' });
    expect((await out.backlog()).count).toBe(2);
  });

  it('holds the backlog bound exactly, in messages and in bytes, and writes nothing for a refused message', async () => {
    const { out, prefix } = setup({ backlogMax: 3 });
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => accept(out, { id: `full${i}`, to: `9055500${i}` })));
    expect(answers.map((a) => a.kind)).toEqual(['created', 'created', 'created', 'full', 'full']);
    expect(await redis.exists(`${prefix}:msg:full3`, `${prefix}:body:full3`, `${prefix}:o:q:90555003`)).toBe(0);
    expect((await out.backlog()).count).toBe(3);

    const bytes = setup({ backlogMaxBytes: body.length * 2 });
    const b = await Promise.all([0, 1, 2].map((i) => accept(bytes.out, { to: `9055600${i}` })));
    expect(b.map((a) => a.kind)).toEqual(['created', 'created', 'full']);
    expect(b[2]).toEqual({ kind: 'full', bound: 'bytes' });
    // A message that leaves the backlog frees its bytes.
    const c = await bytes.out.claim(10, 2000, FAST);
    await sent(bytes.out, c.leases[0]!);
    expect(await bytes.out.backlog()).toEqual({ count: 1, bytes: body.length });
    await expect(accept(bytes.out, { to: '90556009' })).resolves.toMatchObject({ kind: 'created' });
  });

  it('sends concurrent accepts as one script call', async () => {
    const { out } = setup();
    const calls = async () => {
      const stats = await redis.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await calls();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => accept(out, { id: `co${i}`, to: `9055700${i}` })));
    expect(await calls()).toBe(before + 1);
    expect(answers.every((a) => a.kind === 'created')).toBe(true);
  });

  it('fails only the message Redis refused and leaves nothing of it', async () => {
    const { out, store, prefix } = setup();
    await redis.rpush(store.recKey('bad'), 'not a hash'); // HSET on it fails with WRONGTYPE
    const [ok1, bad, ok2] = await Promise.allSettled(['ok1', 'bad', 'ok2'].map((id) => accept(out, { id, idempotency: { key: `k-${id}`, fingerprint: 'f' } })));
    expect(ok1).toMatchObject({ status: 'fulfilled', value: { kind: 'created' } });
    expect(ok2).toMatchObject({ status: 'fulfilled', value: { kind: 'created' } });
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(await redis.exists(`${prefix}:body:bad`, `${prefix}:idem:crm:k-bad`)).toBe(0);
    expect((await out.backlog()).count).toBe(2);
  });
});

describe('Outbound claim and settle', () => {
  it('keeps one message per recipient in flight and sends a recipient’s messages in acceptance order', async () => {
    const { out, store } = setup();
    const a = ['a1', 'a2', 'a3'];
    for (const id of a) await accept(out, { id, to: '9055501' });
    await accept(out, { id: 'b1', to: '9055502' });
    const first = await out.claim(10, 2000, FAST);
    expect(ids(first).sort()).toEqual(['a1', 'b1']);
    expect(first.state).toBe('idle');
    expect((await store.get('a1'))?.status).toBe('sending');
    // Nothing more for the same recipient while a1 is leased.
    expect(ids(await out.claim(10, 2000, FAST))).toEqual([]);
    for (const next of ['a2', 'a3']) {
      const lease = first.leases.find((l) => l.to === '9055501') ?? (await out.claim(10, 2000, FAST)).leases[0]!;
      await sent(out, lease);
      const c = await out.claim(10, 2000, FAST);
      expect(ids(c)).toEqual([next]);
      first.leases.splice(0, first.leases.length, ...c.leases);
    }
    expect((await store.get('a1'))).toMatchObject({ status: 'sent', cbotMessageId: 'wamid.a1' });
    // a3 (in flight) and b1 (in flight) are still pending; the sent ones are not.
    expect(await out.pending()).toEqual([{ caller: 'crm', priority: 'normal', count: 2 }]);
  });

  it('holds a retried message at its recipient’s head while other recipients flow', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'r1', to: '9055511' });
    await accept(out, { id: 'r2', to: '9055511' });
    await accept(out, { id: 'x1', to: '9055512' });
    const c = await out.claim(10, 2000, FAST);
    const r1 = c.leases.find((l) => l.id === 'r1')!;
    const attempt = { at: 'x', outcome: 'retry' as const, httpStatus: 503 };
    await expect(out.retry(r1, 2000, { untilMs: 5000, countsAsFailure: true, keepInflight: false, maxAttempts: 3, error: {} }, attempt)).resolves.toEqual({
      kind: 'held',
      failures: 1,
      untilMs: 5000,
    });
    await sent(out, c.leases.find((l) => l.id === 'x1')!);
    await accept(out, { id: 'x2', to: '9055512' });
    // Before the hold is due: the other recipient's next message goes, r2 does not overtake r1.
    const before = await out.claim(10, 4000, FAST);
    expect(ids(before)).toEqual(['x2']);
    expect(before.state).toBe('idle');
    expect(before.waitMs).toBe(1000);
    const after = await out.claim(10, 5000, FAST);
    expect(ids(after)).toEqual(['r1']);
    expect(after.leases[0]).toMatchObject({ failures: 1, ambiguous: false });
    expect((await store.get('r1'))?.attempts).toEqual([attempt]);
  });

  it('fails a message whose attempts run out and moves on to the next', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'f1', to: '9055521' });
    await accept(out, { id: 'f2', to: '9055521' });
    let lease = (await out.claim(10, 2000, FAST)).leases[0]!;
    const attempt = { at: 'x', outcome: 'retry' as const };
    const opts = { untilMs: 2000, countsAsFailure: true, keepInflight: false, maxAttempts: 2, error: { message: 'gave up' } };
    await out.retry(lease, 2000, opts, attempt);
    lease = (await out.claim(10, 2001, FAST)).leases[0]!;
    await expect(out.retry(lease, 2001, opts, attempt)).resolves.toEqual({ kind: 'failed', failures: 2 });
    expect(await store.get('f1')).toMatchObject({ status: 'failed', error: { message: 'gave up' } });
    expect((await store.deadLetters(10)).records.map((r) => r.id)).toEqual(['f1']);
    expect(ids(await out.claim(10, 2002, FAST))).toEqual(['f2']);
  });

  it('hands an expired lease to the next claim, counts the possible resend, and fences the old holder off', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'l1', to: '9055531' });
    await accept(out, { id: 'l2', to: '9055531' });
    // No reconcile window here (resent at once); the wait is the next test's.
    const policy = { ...FAST, leaseMs: 1000, reconcileMs: 0 };
    const stale = (await out.claim(10, 2000, policy)).leases[0]!;
    expect(ids(await out.claim(10, 2999, policy))).toEqual([]);
    const fresh = (await out.claim(10, 3001, policy)).leases[0]!;
    expect(fresh).toMatchObject({ id: 'l1', ambiguous: true });
    expect(fresh.token).not.toBe(stale.token);
    expect(await store.ambiguousResends()).toBe(1);
    // The old holder's answer is the truth about l1, but the queue is the new holder's.
    await expect(sent(out, stale, 3002)).resolves.toEqual({ recorded: 'ok', advanced: false });
    expect((await store.get('l1'))?.status).toBe('sent');
    expect(ids(await out.claim(10, 3003, policy))).toEqual([]);
    await expect(sent(out, fresh, 3004)).resolves.toEqual({ recorded: 'closed', advanced: true });
    expect(ids(await out.claim(10, 3005, policy))).toEqual(['l2']);
  });

  it('holds an expired lease’s message and its recipient’s later ones for the reconcile window before resending it', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'w1', to: '9055532' });
    await accept(out, { id: 'w2', to: '9055532' });
    const policy = { ...FAST, leaseMs: 1000, reconcileMs: 500 };
    expect(ids(await out.claim(10, 2000, policy))).toEqual(['w1']);
    // The lease ran out with the answer unknown: no status identifies it, so the recipient waits.
    const waiting = await out.claim(10, 3001, policy);
    expect(waiting.leases).toEqual([]);
    expect(waiting).toMatchObject({ state: 'idle', waitMs: 500 });
    expect((await store.get('w1'))?.attempts.map((a) => a.outcome)).toEqual(['unknown']);
    expect(ids(await out.claim(10, 3500, policy))).toEqual([]);
    const again = (await out.claim(10, 3501, policy)).leases[0]!;
    expect(again).toMatchObject({ id: 'w1', ambiguous: true });
    expect(await store.ambiguousResends()).toBe(1);
  });

  it('takes a lease back unused: the head stays, the next claim is not counted as a resend', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'u1', to: '9055535' });
    await accept(out, { id: 'u2', to: '9055535' });
    const lease = (await out.claim(10, 2000, FAST)).leases[0]!;
    await expect(out.release(lease, 2001)).resolves.toBe(true);
    await expect(out.release(lease, 2002)).resolves.toBe(false);
    const again = (await out.claim(10, 2003, FAST)).leases[0]!;
    expect(again).toMatchObject({ id: 'u1', ambiguous: false });
    expect(again.token).not.toBe(lease.token);
    expect(await store.ambiguousResends()).toBe(0);
  });

  it('ends expired, too old and bodiless heads in the claim and sends the next one', async () => {
    const { out, store, prefix } = setup();
    await accept(out, { id: 'e1', to: '9055541', expiresAtMs: 1500 });
    await accept(out, { id: 'e2', to: '9055541', nowMs: 1000 });
    await accept(out, { id: 'e3', to: '9055541', nowMs: 1_000_000 });
    await accept(out, { id: 'e4', to: '9055541', nowMs: 1_000_000 });
    await redis.del(`${prefix}:body:e3`);
    const c = await out.claim(10, 1_000_001, { ...FAST, maxAgeMs: 500_000 });
    expect(c.ended).toEqual([
      { reason: 'expired', id: 'e1' },
      { reason: 'max_age', id: 'e2' },
      { reason: 'no_body', id: 'e3' },
    ]);
    expect(ids(c)).toEqual(['e4']);
    expect((await store.get('e1'))?.status).toBe('expired');
    expect((await store.get('e2'))?.status).toBe('failed');
    expect((await out.backlog()).count).toBe(1);
  });

  it('replays a dead letter behind its recipient’s pending messages', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'd1', to: '9055551' });
    const lease = (await out.claim(10, 2000, FAST)).leases[0]!;
    await out.settle(lease, 2000, { kind: 'failed', error: { code: 1009 } });
    await accept(out, { id: 'd2', to: '9055551' });
    await expect(out.replay('d1', 3000)).resolves.toEqual({ kind: 'replayed', to: '9055551' });
    await expect(out.replay('d1', 3001)).resolves.toEqual({ kind: 'not-failed', status: 'queued' });
    await expect(out.replay('nope', 3001)).resolves.toEqual({ kind: 'missing' });
    expect((await store.deadLetters(10)).records).toEqual([]);
    const order: string[] = [];
    for (let i = 0; i < 2; i++) {
      const l = (await out.claim(10, 4000, FAST)).leases[0]!;
      order.push(l.id);
      await sent(out, l);
    }
    expect(order).toEqual(['d2', 'd1']);
  });

  it('parks callback statuses that overtake the send and moves statuses only forward', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'm4', to: '9055561' });
    const lease = (await out.claim(10, 2000, FAST)).leases[0]!;
    await expect(store.applyStatus('wamid.4', 'delivered', 1002)).resolves.toEqual({ relayId: undefined, applied: false });
    await out.settle(lease, 2001, { kind: 'sent', wamid: 'wamid.4' });
    expect((await store.get('m4'))?.status).toBe('delivered');
    await expect(store.applyStatus('wamid.4', 'sent', 1004)).resolves.toEqual({ relayId: 'm4', applied: false });
    await expect(store.applyStatus('wamid.4', 'read', 1005)).resolves.toEqual({ relayId: 'm4', applied: true });
    await expect(store.applyStatus('wamid.4', 'delivered', 1006)).resolves.toEqual({ relayId: 'm4', applied: false });
    expect((await store.get('m4'))?.status).toBe('read');
  });

  it('lets delivery evidence override a failed callback, not the other way round', async () => {
    const { out, store } = setup();
    await accept(out, { id: 'm5', to: '9055562' });
    await sent(out, (await out.claim(10, 2000, FAST)).leases[0]!);
    await store.applyStatus('wamid.m5', 'failed', 1003, [{ code: 131026 }]);
    expect(await store.get('m5')).toMatchObject({ status: 'failed', error: [{ code: 131026 }] });
    await store.applyStatus('wamid.m5', 'sent', 1004);
    expect((await store.get('m5'))?.status).toBe('failed');
    await store.applyStatus('wamid.m5', 'delivered', 1005);
    expect((await store.get('m5'))?.status).toBe('delivered');
  });
});

describe('Outbound scheduling', () => {
  it('serves high before normal before bulk', async () => {
    const { out } = setup();
    await accept(out, { id: 'pb', to: '9055601', priority: 'bulk' });
    await accept(out, { id: 'pn', to: '9055602', priority: 'normal' });
    await accept(out, { id: 'ph', to: '9055603', priority: 'high' });
    expect((await out.pending()).sort((x, y) => x.priority.localeCompare(y.priority))).toEqual([
      { caller: 'crm', priority: 'bulk', count: 1 },
      { caller: 'crm', priority: 'high', count: 1 },
      { caller: 'crm', priority: 'normal', count: 1 },
    ]);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(...ids(await out.claim(1, 2000, FAST)));
    expect(order).toEqual(['ph', 'pn', 'pb']);
  });

  it('lifts a recipient’s earlier bulk message when a high one queues behind it, and keeps their order', async () => {
    const { out } = setup();
    for (let i = 0; i < 5; i++) await accept(out, { id: `n${i}`, to: `905561${i}`, priority: 'normal' });
    await accept(out, { id: 'b-first', to: '9055620', priority: 'bulk' });
    await accept(out, { id: 'h-second', to: '9055620', priority: 'high' });
    const first = await out.claim(1, 2000, FAST);
    expect(ids(first)).toEqual(['b-first']);
    await sent(out, first.leases[0]!);
    expect(ids(await out.claim(1, 2000, FAST))).toEqual(['h-second']);
  });

  it('skips the entry a lifted recipient left at its old priority: never two leases at once', async () => {
    const { out } = setup();
    await accept(out, { id: 'sb', to: '9055625', priority: 'bulk' });
    await accept(out, { id: 'sh', to: '9055625', priority: 'high' });
    const first = await out.claim(10, 2000, FAST);
    expect(ids(first)).toEqual(['sb']);
    // The recipient's stale bulk entry comes up now: it must not lease the recipient again.
    expect(ids(await out.claim(10, 2000, FAST))).toEqual([]);
    await sent(out, first.leases[0]!);
    expect(ids(await out.claim(10, 2000, FAST))).toEqual(['sh']);
    expect(ids(await out.claim(10, 2000, FAST))).toEqual([]);
  });

  it('shares turns between callers round robin, by weight', async () => {
    const { out } = setup();
    for (let i = 0; i < 20; i++) await accept(out, { id: `big${i}`, to: `905563${String(i).padStart(2, '0')}`, caller: 'campaign' });
    for (let i = 0; i < 3; i++) await accept(out, { id: `small${i}`, to: `905564${i}`, caller: 'otp' });
    const first = ids(await out.claim(6, 2000, FAST));
    expect(first.filter((id) => id.startsWith('small'))).toHaveLength(3);

    const weighted = setup();
    await weighted.out.setWeights({ campaign: 3 });
    for (let i = 0; i < 20; i++) await accept(weighted.out, { id: `wbig${i}`, to: `905565${String(i).padStart(2, '0')}`, caller: 'campaign' });
    for (let i = 0; i < 20; i++) await accept(weighted.out, { id: `wsmall${i}`, to: `905566${String(i).padStart(2, '0')}`, caller: 'otp' });
    const got = ids(await weighted.out.claim(20, 2000, FAST));
    expect(got.filter((id) => id.startsWith('wbig'))).toHaveLength(15);
  });

  it('keeps to the global send rate and says when the next token is due', async () => {
    const { out } = setup();
    for (let i = 0; i < 5; i++) await accept(out, { to: `905567${i}` });
    const c = await out.claim(5, 2000, { ...FAST, ratePerSecond: 10 });
    expect(c.leases).toHaveLength(1);
    expect(c.state).toBe('rate');
    expect(c.waitMs).toBeGreaterThan(0);
    expect(c.waitMs).toBeLessThanOrEqual(100);
  });

  it('holds every claim while the sender is paused', async () => {
    const { out } = setup();
    await accept(out, { to: '9055681' });
    await out.pause(5_000);
    await out.pause(1_000); // a shorter pause never shortens a longer one
    const c = await out.claim(5, 2000, FAST);
    expect(c).toMatchObject({ leases: [], state: 'paused' });
    expect(c.waitMs).toBeGreaterThan(4_000);
  });
});
