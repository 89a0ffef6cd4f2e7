import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound, Partitions, PartitionsError, resolvePartitions } from './index.js';
import type { AcceptInput, Lease } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const N = 3;

function setup(partitions = N) {
  const prefix = uniquePrefix();
  const opts = { redis, prefix, recordTtlS: 3600, partitions };
  return { prefix, parts: new Partitions(prefix, partitions), out: new Outbound(opts), store: new MessageStore(opts) };
}
const newId = () => `msg_${Date.now().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
async function accept(out: Outbound, to: string, over: Partial<AcceptInput> = {}): Promise<string> {
  const body = JSON.stringify({ to, type: 'text', text: { body: over.id ?? 'x' } });
  const r = await out.accept({ id: newId(), to, type: 'text', caller: 'crm', priority: 'normal', body, nowMs: over.nowMs ?? Date.now(), ...over });
  if (r.kind !== 'created') throw new Error(`accept: ${r.kind}`);
  return r.id;
}
/** Every lease ready now, over every partition. */
async function claimAll(out: Outbound, now = Date.now()): Promise<Lease[]> {
  const leases: Lease[] = [];
  for (let k = 0; k < out.partitions.count; k++) leases.push(...(await out.claim(1000, now, FAST, 'default', k)).leases);
  return leases;
}

describe('Outbound over partitions', () => {
  it("keeps each recipient's queue, records and backlog in its own partition, and sends per-recipient in order", async () => {
    const { out, parts, prefix, store } = setup();
    const recipients = Array.from({ length: 30 }, (_, i) => `9055500${String(i).padStart(4, '0')}`);
    const sent = new Map<string, string[]>();
    const accepted = new Map<string, string[]>();
    for (const round of [1, 2, 3]) {
      for (const to of recipients) {
        const id = await accept(out, to);
        accepted.set(to, [...(accepted.get(to) ?? []), id]);
        expect(parts.ofId(id)).toBe(parts.ofRecipient(to));
        expect(await redis.exists(`${parts.bases[parts.ofRecipient(to)]}:msg:${id}`)).toBe(1);
        if (round === 1) expect(await redis.exists(`${prefix}:msg:${id}`)).toBe(0);
      }
    }
    // Every partition holds some recipients (30 spread over 3).
    for (const base of parts.bases) expect((await redis.keys(`${base}:o:q:*`)).length).toBeGreaterThan(0);
    expect(await out.backlog()).toMatchObject({ count: 90 });
    expect(await out.queuedByChannel()).toEqual({ default: 90 });

    for (;;) {
      const leases = await claimAll(out);
      if (leases.length === 0) break;
      // One message per recipient in flight, whatever the partition.
      expect(new Set(leases.map((l) => l.to)).size).toBe(leases.length);
      for (const l of leases) {
        expect(l.partition).toBe(parts.ofRecipient(l.to));
        sent.set(l.to, [...(sent.get(l.to) ?? []), l.id]);
        await out.settle(l, Date.now(), { kind: 'sent', wamid: `wamid.${l.id}` });
      }
    }
    expect(Object.fromEntries(sent)).toEqual(Object.fromEntries(accepted));
    expect(await out.backlog()).toEqual({ count: 0, bytes: 0 });
    expect((await store.get(accepted.get(recipients[0]!)![0]!))?.status).toBe('sent');
  });

  it('correlates a status with its message in whichever partition sent it, with or without a hint', async () => {
    const { out, store } = setup();
    const a = await accept(out, '905551110001');
    const b = await accept(out, '905551110002');
    for (const l of await claimAll(out)) await out.settle(l, Date.now(), { kind: 'sent', wamid: `wamid.${l.id}` });
    expect(await store.applyStatus(`wamid.${a}`, 'delivered', Date.now())).toEqual({ relayId: a, applied: true });
    // A wrong hint (another spelling of the number) still finds it.
    expect(await store.applyStatus(`wamid.${b}`, 'delivered', Date.now(), undefined, undefined, 'default', '+4900000')).toEqual({ relayId: b, applied: true });
    expect(await store.applyStatus(`wamid.${b}`, 'read', Date.now(), undefined, undefined, 'default', '905551110002')).toEqual({ relayId: b, applied: true });
    expect(await store.applyStatus('wamid.nobody', 'delivered', Date.now())).toEqual({ applied: false });
  });

  it('applies a status that overtook the send once the send is recorded, in the partition that sent it', async () => {
    const { out, store } = setup();
    const id = await accept(out, '905551110003');
    const [lease] = await claimAll(out);
    expect(await store.applyStatus('wamid.early', 'delivered', Date.now())).toEqual({ applied: false });
    await out.settle(lease!, Date.now(), { kind: 'sent', wamid: 'wamid.early' });
    expect((await store.get(id))?.status).toBe('delivered');
  });

  it('lists messages newest first across partitions, page by page, and a recipient from its partition alone', async () => {
    const { out, store } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await accept(out, `90555111${String(i % 9).padStart(4, '0')}`, { nowMs: 1_000_000 + Math.floor(i / 2) }));
    const seen: string[] = [];
    let cursor;
    do {
      const page = await store.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.records.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    const newestFirst = [...ids].sort((x, y) => {
      const tx = Math.floor(ids.indexOf(x) / 2), ty = Math.floor(ids.indexOf(y) / 2);
      return ty - tx || (x < y ? 1 : -1);
    });
    expect(seen).toEqual(newestFirst);
    const one = await store.list({ limit: 50, to: '905551110000' });
    expect(one.records.map((r) => r.id).sort()).toEqual(ids.filter((_, i) => i % 9 === 0).sort());
  });

  it('lists dead letters newest first across partitions', async () => {
    const { out, store } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await accept(out, `9055522200${i}`));
    const leases = await claimAll(out);
    for (const [i, id] of ids.entries()) {
      const l = leases.find((x) => x.id === id)!;
      await out.settle(l, 5_000 + i, { kind: 'failed', error: { message: `f${i}` } });
    }
    expect((await store.deadLetterIds(undefined, 4)).ids).toEqual([...ids].reverse().slice(0, 4));
    const page = await store.deadLetters(3);
    expect(page.records.map((r) => r.id)).toEqual([...ids].reverse().slice(0, 3));
    expect((await store.deadLetters(10, page.next)).records.map((r) => r.id)).toEqual([...ids].reverse().slice(3));
  });

  it('answers an Idempotency-Key reused for a recipient in another partition with a conflict', async () => {
    const { out, parts } = setup();
    const a = '905553330001';
    const b = Array.from({ length: 50 }, (_, i) => `9055533301${String(i).padStart(2, '0')}`).find((to) => parts.ofRecipient(to) !== parts.ofRecipient(a))!;
    const idem = (fingerprint: string) => ({ idempotency: { key: 'k1', fingerprint } });
    const first = await accept(out, a, idem('fa'));
    expect(await out.accept({ id: newId(), to: a, type: 'text', caller: 'crm', priority: 'normal', body: '{}', nowMs: Date.now(), ...idem('fa') })).toEqual({
      kind: 'duplicate',
      id: first,
    });
    expect((await out.accept({ id: newId(), to: b, type: 'text', caller: 'crm', priority: 'normal', body: '{}', nowMs: Date.now(), ...idem('fb') })).kind).toBe('conflict');
    // Another caller's key of the same name is its own.
    const other = await out.accept({ id: newId(), to: b, type: 'text', caller: 'erp', priority: 'normal', body: '{}', nowMs: Date.now(), ...idem('fb') });
    expect(other.kind).toBe('created');
  });

  it('pauses a channel in every partition, and splits its rate over them', async () => {
    const { out } = setup();
    for (let i = 0; i < 30; i++) await accept(out, `9055544400${String(i).padStart(2, '0')}`);
    await out.pause(60_000);
    for (let k = 0; k < N; k++) expect((await out.claim(10, Date.now(), FAST, 'default', k)).state).toBe('paused');
    const { out: out2 } = setup();
    for (let i = 0; i < 30; i++) await accept(out2, `9055544400${String(i).padStart(2, '0')}`);
    // 30/s over 3 partitions: 10/s each, a burst of 1.
    const claims = await Promise.all([0, 1, 2].map((k) => out2.claim(10, Date.now(), { ...FAST, ratePerSecond: 30 }, 'default', k)));
    expect(claims.map((c) => [c.leases.length, c.state])).toEqual([
      [1, 'rate'],
      [1, 'rate'],
      [1, 'rate'],
    ]);
  });

  it('splits the backlog bound over the partitions', async () => {
    const prefix = uniquePrefix();
    const out = new Outbound({ redis, prefix, recordTtlS: 3600, partitions: 2, backlogMax: 4 });
    const parts = new Partitions(prefix, 2);
    const to0 = Array.from({ length: 40 }, (_, i) => `90555666${i}`).filter((to) => parts.ofRecipient(to) === 0);
    const kinds = [];
    for (const to of to0.slice(0, 3)) kinds.push((await out.accept({ id: newId(), to, type: 'text', caller: 'c', priority: 'normal', body: '{}', nowMs: 1 })).kind);
    expect(kinds).toEqual(['created', 'created', 'full']);
  });
});

describe('resolvePartitions', () => {
  it('fixes the count at the first start, from the setting or the default, and refuses another later', async () => {
    const p = uniquePrefix();
    expect(await resolvePartitions(redis, p, { cluster: true })).toBe(12);
    expect(await resolvePartitions(redis, p, { cluster: false })).toBe(12);
    await expect(resolvePartitions(redis, p, { configured: 4, cluster: true })).rejects.toThrow(PartitionsError);
    const q = uniquePrefix();
    expect(await resolvePartitions(redis, q, { configured: 4, cluster: false })).toBe(4);
    expect(await resolvePartitions(redis, q, { configured: 4, cluster: false })).toBe(4);
    expect(await resolvePartitions(redis, uniquePrefix(), { cluster: false })).toBe(1);
  });

  it('writes nothing when asked read-only (the CLI)', async () => {
    const p = uniquePrefix();
    expect(await resolvePartitions(redis, p, { cluster: true, readOnly: true })).toBe(12);
    expect(await redis.exists(`${p}:o:partitions`)).toBe(0);
  });
});
