import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { OutboundLanes } from '@cbot-relay/queues';
import { MessageStore } from './index.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

const store = () => new MessageStore({ redis, prefix: uniquePrefix(), recordTtlS: 3600 });
const lanes = () => new OutboundLanes({ connection: redis, prefix: uniquePrefix(), lanes: 2 });
const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const base = { to: '905551112233', type: 'text', caller: 'crm', body };

describe('MessageStore', () => {
  it('accepts once per idempotency key and tells conflicts apart', async () => {
    const s = store();
    const idempotency = { key: 'k1', fingerprint: 'f1' };
    await expect(s.accept({ ...base, id: 'msg_a', nowMs: 1, idempotency })).resolves.toEqual({ kind: 'created', id: 'msg_a' });
    await expect(s.accept({ ...base, id: 'msg_b', nowMs: 2, idempotency })).resolves.toEqual({ kind: 'duplicate', id: 'msg_a' });
    await expect(
      s.accept({ ...base, id: 'msg_c', nowMs: 3, idempotency: { key: 'k1', fingerprint: 'other' } }),
    ).resolves.toEqual({ kind: 'conflict', id: 'msg_a' });
    expect(await s.backlog()).toBe(1);
    expect(await s.get('msg_b')).toBeUndefined();
  });

  it('walks queued → sending → sent and leaves the backlog', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm1', nowMs: 1000 });
    const begun = await s.begin('m1', 1001, 60_000);
    expect(begun).toMatchObject({ kind: 'go', ambiguous: false, failures: 0, body });
    expect((await s.get('m1'))?.status).toBe('sending');
    await s.finish('m1', 1002, { outcome: 'sent', wamid: 'wamid.1' }, { at: 'x', outcome: 'sent', httpStatus: 200 });
    const rec = await s.get('m1');
    expect(rec).toMatchObject({ status: 'sent', cbotMessageId: 'wamid.1', attempts: [{ outcome: 'sent', httpStatus: 200 }] });
    expect(await s.backlog()).toBe(0);
    // A re-run after a crash finds it done and sends nothing.
    await expect(s.begin('m1', 1003, 60_000)).resolves.toEqual({ kind: 'done', status: 'sent' });
  });

  it('flags a resend when an earlier attempt never recorded its end', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm2', nowMs: 1000 });
    await s.begin('m2', 1001, 60_000);
    await expect(s.begin('m2', 1002, 60_000)).resolves.toMatchObject({ kind: 'go', ambiguous: true });
    expect(await s.resends('m2')).toBe(1);
    expect(await s.ambiguousResends()).toBe(1);
  });

  it('counts failures only for attempts that count', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm3', nowMs: 1000 });
    await s.begin('m3', 1001, 60_000);
    expect((await s.finish('m3', 1002, { outcome: 'retry', countsAsFailure: true, keepInflight: false })).failures).toBe(1);
    expect((await s.finish('m3', 1003, { outcome: 'retry', countsAsFailure: false, keepInflight: false })).failures).toBe(1);
    await expect(s.begin('m3', 1004, 60_000)).resolves.toMatchObject({ kind: 'go', ambiguous: false, failures: 1 });
  });

  it('moves statuses only forward and parks statuses that overtake the send', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm4', nowMs: 1000 });
    await s.begin('m4', 1001, 60_000);
    // The delivered callback arrives before the dispatcher recorded the send.
    await expect(s.applyStatus('wamid.4', 'delivered', 1002)).resolves.toEqual({ relayId: undefined, applied: false });
    await s.finish('m4', 1003, { outcome: 'sent', wamid: 'wamid.4' });
    expect((await s.get('m4'))?.status).toBe('delivered');
    await expect(s.applyStatus('wamid.4', 'sent', 1004)).resolves.toEqual({ relayId: 'm4', applied: false });
    await expect(s.applyStatus('wamid.4', 'read', 1005)).resolves.toEqual({ relayId: 'm4', applied: true });
    await expect(s.applyStatus('wamid.4', 'delivered', 1006)).resolves.toEqual({ relayId: 'm4', applied: false });
    await expect(s.applyStatus('wamid.4', 'deleted', 1007)).resolves.toEqual({ relayId: 'm4', applied: false });
    expect((await s.get('m4'))?.status).toBe('read');
  });

  it('lets delivery evidence override a failed callback, not the other way round', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm5', nowMs: 1000 });
    await s.begin('m5', 1001, 60_000);
    await s.finish('m5', 1002, { outcome: 'sent', wamid: 'wamid.5' });
    await s.applyStatus('wamid.5', 'failed', 1003, [{ code: 131026 }]);
    expect(await s.get('m5')).toMatchObject({ status: 'failed', error: [{ code: 131026 }] });
    await s.applyStatus('wamid.5', 'sent', 1004);
    expect((await s.get('m5'))?.status).toBe('failed');
    await s.applyStatus('wamid.5', 'delivered', 1005);
    expect((await s.get('m5'))?.status).toBe('delivered');
  });

  it('dead-letters failures and replays them once', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm6', nowMs: 1000 });
    await s.begin('m6', 1001, 60_000);
    await s.finish('m6', 1002, { outcome: 'failed', error: { code: 1009 } });
    expect(await s.backlog()).toBe(0);
    const dl = await s.deadLetters(10);
    expect(dl.records.map((r) => r.id)).toEqual(['m6']);
    const l = lanes();
    const jobFor = (to: string) => l.jobCall({ id: 'm6', to });
    await expect(s.replay('m6', 2000, jobFor)).resolves.toEqual({ kind: 'replayed', to: base.to });
    await expect(s.replay('m6', 2001, jobFor)).resolves.toEqual({ kind: 'not-failed', status: 'queued' });
    await expect(s.replay('nope', 2001, jobFor)).resolves.toEqual({ kind: 'missing' });
    expect(await l.depth()).toBe(1);
    await l.close();
    expect((await s.deadLetters(10)).records).toEqual([]);
    expect(await s.backlog()).toBe(1);
    await expect(s.begin('m6', 2002, 60_000)).resolves.toMatchObject({ kind: 'go', failures: 0 });
  });

  it('reports expiry and max age before sending', async () => {
    const s = store();
    await s.accept({ ...base, id: 'm7', nowMs: 1000, expiresAtMs: 1500 });
    await expect(s.begin('m7', 1600, 60_000)).resolves.toEqual({ kind: 'expired' });
    await s.finish('m7', 1600, { outcome: 'expired' });
    expect((await s.get('m7'))?.status).toBe('expired');
    await s.accept({ ...base, id: 'm8', nowMs: 1000 });
    await expect(s.begin('m8', 70_000, 60_000)).resolves.toEqual({ kind: 'too-old' });
  });

  it('finds open records by age and drops only never-started orphans', async () => {
    const s = store();
    await s.accept({ ...base, id: 'o1', nowMs: 1000, idempotency: { key: 'k-o1', fingerprint: 'f' } });
    await s.accept({ ...base, id: 'o2', nowMs: 2000 });
    await s.accept({ ...base, id: 'o3', nowMs: 9000 });
    await s.begin('o2', 2001, 60_000);
    const old = await s.openBefore(5000, -1, 10);
    expect(old.map((o) => [o.id, o.status])).toEqual([
      ['o1', 'queued'],
      ['o2', 'sending'],
    ]);
    expect(await s.discardOrphan('o1')).toBe(true);
    expect(await s.discardOrphan('o2')).toBe(false);
    expect(await s.get('o1')).toBeUndefined();
    // The key is free again: a retry with it creates the message anew.
    await expect(s.accept({ ...base, id: 'o1b', nowMs: 3000, idempotency: { key: 'k-o1', fingerprint: 'f' } })).resolves.toEqual({
      kind: 'created',
      id: 'o1b',
    });
    expect(await s.backlog()).toBe(3);
  });

  describe('acceptAndEnqueue', () => {
    const scriptCalls = async () => {
      const stats = await redis.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };

    it('sends concurrent accepts as one script call, each recorded with its own job', async () => {
      const s = store();
      const l = lanes();
      const ids = Array.from({ length: 50 }, (_, i) => `b${i}`);
      const before = await scriptCalls();
      const answers = await Promise.all(
        ids.map((id, i) => s.acceptAndEnqueue({ ...base, to: `90555000${i}`, id, nowMs: 1000 + i }, l.jobCall({ id, to: `90555000${i}` }))),
      );
      expect(await scriptCalls()).toBe(before + 1);
      expect(answers).toEqual(ids.map((id) => ({ kind: 'created', id })));
      expect(await s.backlog()).toBe(50);
      expect(await l.depth()).toBe(50);
      for (const [i, id] of ids.entries()) {
        expect(await s.get(id)).toMatchObject({ id, status: 'queued', caller: 'crm' });
        // The record names its own job, on its recipient's lane.
        const job = await l.queue(l.laneOf(`90555000${i}`)).getJob((await redis.hget(s.recKey(id), 'job')) ?? '');
        expect(job?.data).toEqual({ id, to: `90555000${i}` });
      }
      await l.close();
    });

    it('applies Idempotency-Keys in order within one batch', async () => {
      const s = store();
      const l = lanes();
      const idempotency = { key: 'same', fingerprint: 'f1' };
      const answers = await Promise.all([
        s.acceptAndEnqueue({ ...base, id: 'i1', nowMs: 1, idempotency }, l.jobCall({ id: 'i1', to: base.to })),
        s.acceptAndEnqueue({ ...base, id: 'i2', nowMs: 2, idempotency }, l.jobCall({ id: 'i2', to: base.to })),
        s.acceptAndEnqueue({ ...base, id: 'i3', nowMs: 3, idempotency: { ...idempotency, fingerprint: 'f2' } }, l.jobCall({ id: 'i3', to: base.to })),
      ]);
      expect(answers).toEqual([
        { kind: 'created', id: 'i1' },
        { kind: 'duplicate', id: 'i1' },
        { kind: 'conflict', id: 'i1' },
      ]);
      expect(await l.depth()).toBe(1);
      await l.close();
    });

    it('fails only the message Redis refused; the rest of its batch is accepted', async () => {
      const s = store();
      const l = lanes();
      await redis.rpush(s.recKey('bad'), 'not a hash'); // HSET on it fails with WRONGTYPE
      const idempotency = (id: string) => ({ key: `k-${id}`, fingerprint: 'f' });
      const [ok1, bad, ok2] = await Promise.allSettled(
        ['ok1', 'bad', 'ok2'].map((id) => s.acceptAndEnqueue({ ...base, id, nowMs: 1, idempotency: idempotency(id) }, l.jobCall({ id, to: base.to }))),
      );
      expect(ok1).toEqual({ status: 'fulfilled', value: { kind: 'created', id: 'ok1' } });
      expect(ok2).toEqual({ status: 'fulfilled', value: { kind: 'created', id: 'ok2' } });
      expect(bad?.status).toBe('rejected');
      expect(String((bad as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
      expect((await s.get('ok2'))?.status).toBe('queued');
      // Its Idempotency-Key was not kept: a retry makes the message afresh, not a "duplicate" of nothing.
      await redis.del(s.recKey('bad'));
      await expect(s.acceptAndEnqueue({ ...base, id: 'bad2', nowMs: 2, idempotency: idempotency('bad') }, l.jobCall({ id: 'bad2', to: base.to }))).resolves.toEqual({
        kind: 'created',
        id: 'bad2',
      });
      await l.close();
    });
  });
});
