import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound, PartitionKeys } from './index.js';
import { CANCEL_SLICE } from './outbound.js';
import type { AcceptInput, Claim, Lease } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const base = { to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', body } as const;
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };

function setup(partitions = 1) {
  const prefix = uniquePrefix();
  return {
    prefix,
    out: new Outbound({ redis, prefix, recordTtlS: 3600, partitions }),
    store: new MessageStore({ redis, prefix, recordTtlS: 3600, partitions }),
  };
}

let seq = 0;
const accept = async (out: Outbound, over: Partial<AcceptInput> = {}) => {
  const r = await out.accept({ ...base, id: `s${++seq}-00`, nowMs: 1000, ...over });
  if (r.kind !== 'created') throw new Error(`not accepted: ${r.kind}`);
  return r.id;
};
const ids = (c: Claim) => c.leases.map((l) => l.id);
const sent = (out: Outbound, l: Lease, now = 2000) => out.settle(l, now, { kind: 'sent', wamid: `wamid.${l.id}` });

/** Claims, sends and settles until nothing is ready at `now`; returns the ids in the order they were leased. */
async function drain(out: Outbound, now: number): Promise<string[]> {
  const order: string[] = [];
  for (;;) {
    const c = await out.claim(100, now, FAST);
    if (c.leases.length === 0) return order;
    for (const l of c.leases) {
      order.push(l.id);
      await sent(out, l, now);
    }
  }
}

describe('scheduled messages', () => {
  it('wait until their time as scheduled, then queue, and the idle claim says when the next is due', async () => {
    const { out, store } = setup();
    const id = await accept(out, { sendAtMs: 5000, to: '9056001' });
    expect(await store.get(id)).toMatchObject({ status: 'scheduled', sendAt: new Date(5000).toISOString() });
    const early = await out.claim(10, 4000, FAST);
    expect(ids(early)).toEqual([]);
    expect(early).toMatchObject({ state: 'idle', waitMs: 1000 });
    // It counts in the backlog and its channel from its acceptance.
    expect((await out.backlog()).count).toBe(1);
    expect(await out.queuedByChannel()).toEqual({ default: 1 });
    const due = await out.claim(10, 5000, FAST);
    expect(ids(due)).toEqual([id]);
    expect(due.leases[0]!.acceptedAtMs).toBe(5000);
    await sent(out, due.leases[0]!, 5001);
    const rec = await store.get(id);
    expect(rec?.history.map((h) => h.status)).toEqual(['scheduled', 'queued', 'sending', 'sent']);
    expect(rec?.history[1]!.at).toBe(new Date(5000).toISOString());
    expect(await out.queuedByChannel()).toEqual({});
  });

  it('a send time not after the acceptance is now', async () => {
    const { out, store } = setup();
    const id = await accept(out, { sendAtMs: 1000 });
    expect((await store.get(id))?.status).toBe('queued');
    expect(ids(await out.claim(10, 1000, FAST))).toEqual([id]);
  });

  it('never hold back a later immediate message to the same recipient', async () => {
    const { out } = setup();
    const later = await accept(out, { sendAtMs: 10_000, to: '9056011' });
    const now1 = await accept(out, { nowMs: 1001, to: '9056011' });
    const now2 = await accept(out, { nowMs: 1002, to: '9056011' });
    expect(await drain(out, 2000)).toEqual([now1, now2]);
    expect(await drain(out, 10_000)).toEqual([later]);
  });

  it('leave in (due time, acceptance) order, whenever the claim promotes them', async () => {
    const { out } = setup();
    const to = '9056021';
    const c = await accept(out, { sendAtMs: 9000, to });
    const a = await accept(out, { sendAtMs: 5000, to });
    const b1 = await accept(out, { sendAtMs: 7000, to, nowMs: 1001 });
    const b2 = await accept(out, { sendAtMs: 7000, to, nowMs: 1002 });
    const i1 = await accept(out, { nowMs: 4000, to });
    // Accepted after a, b1 and b2 fell due, but before any claim ran: it goes after them.
    const i2 = await accept(out, { nowMs: 8000, to });
    expect(await drain(out, 8500)).toEqual([i1, a, b1, b2, i2]);
    expect(await drain(out, 9000)).toEqual([c]);
  });

  it('never go before a head that is in flight', async () => {
    const { out } = setup();
    const to = '9056031';
    const first = await accept(out, { nowMs: 3000, to });
    const late = await accept(out, { sendAtMs: 2000, to });
    const lease = (await out.claim(10, 1500, FAST)).leases[0]!;
    // first was accepted before late fell due? No: due 2000 < 3000, but the head is leased already.
    expect(lease.id).toBe(first);
    expect(ids(await out.claim(10, 4000, FAST))).toEqual([]);
    await sent(out, lease, 4001);
    expect(await drain(out, 4002)).toEqual([late]);
  });
});

describe('cancel', () => {
  it('ends a scheduled or queued message canceled, off its queue, and it is never claimed', async () => {
    const { out, store } = setup();
    const sched = await accept(out, { sendAtMs: 5000, to: '9056101' });
    const queued = await accept(out, { to: '9056102' });
    const other = await accept(out, { to: '9056102' });
    await expect(out.cancel(sched, 'crm', 1100)).resolves.toEqual({ kind: 'canceled' });
    await expect(out.cancel(queued, undefined, 1100)).resolves.toEqual({ kind: 'canceled' });
    const rec = await store.get(sched);
    expect(rec?.status).toBe('canceled');
    expect(rec?.history.map((h) => h.status)).toEqual(['scheduled', 'canceled']);
    expect((await store.get(queued))?.history.map((h) => h.status)).toEqual(['queued', 'canceled']);
    expect(await drain(out, 6000)).toEqual([other]);
    expect(await out.backlog()).toEqual({ count: 0, bytes: 0 });
    expect(await out.queuedByChannel()).toEqual({});
    expect(await out.pending()).toEqual([]);
    // Canceled is final: a second cancel is refused with the status.
    await expect(out.cancel(queued, 'crm', 7000)).resolves.toEqual({ kind: 'not-cancelable', status: 'canceled' });
  });

  it('marks a canceled record for the history store when it is on', async () => {
    const { out, prefix } = setup();
    const keys = new PartitionKeys(prefix);
    await redis.set(keys.historyOn, '1');
    const id = await accept(out, { sendAtMs: 9000, to: '9056105' });
    await out.cancel(id, 'crm', 1500);
    expect(await redis.zscore(keys.historyDirty, id)).toBe('1500');
  });

  it('refuses a message in flight or sent, and hides another caller’s', async () => {
    const { out } = setup();
    const id = await accept(out, { to: '9056111' });
    await expect(out.cancel(id, 'billing', 1100)).resolves.toEqual({ kind: 'missing' });
    await expect(out.cancel('msg_nope', undefined, 1100)).resolves.toEqual({ kind: 'missing' });
    const lease = (await out.claim(10, 2000, FAST)).leases[0]!;
    await expect(out.cancel(id, 'crm', 2001)).resolves.toEqual({ kind: 'not-cancelable', status: 'sending' });
    await sent(out, lease, 2002);
    await expect(out.cancel(id, 'crm', 2003)).resolves.toEqual({ kind: 'not-cancelable', status: 'sent' });
  });

  it('leaves a message deep in a long queue as a tombstone the claim drops, counts included', async () => {
    const { out, store } = setup();
    const to = '9056121';
    const rows = Array.from({ length: 1100 }, (_, i) => ({ ...base, id: `deep${seq}-${i}`, to, nowMs: 1000 + i }));
    const all = (await Promise.all(rows.map((r) => out.accept(r)))).map((r) => (r.kind === 'created' ? r.id : ''));
    const deep = all[1050]!;
    await expect(out.cancel(deep, 'crm', 3000)).resolves.toEqual({ kind: 'canceled' });
    expect((await out.backlog()).count).toBe(1099);
    const order = await drain(out, 5000);
    expect(order).toHaveLength(1099);
    expect(order).not.toContain(deep);
    expect((await store.get(deep))?.status).toBe('canceled');
    expect(await out.queuedByChannel()).toEqual({});
    expect(await out.pending()).toEqual([]);
  });

  it('by tag: every unsent message of the caller with the tag, in slices, across partitions', async () => {
    const { out, store } = setup(3);
    const n = CANCEL_SLICE * 2 + 17;
    const tagged = (await Promise.all(
      Array.from({ length: n }, (_, i) => out.accept({ ...base, id: `tg${seq}-${i}-00`, to: `90562${String(i).padStart(5, '0')}`, nowMs: 1000, tag: 'camp-1', ...(i % 2 === 0 ? { sendAtMs: 9000 } : {}) })),
    )).map((r) => (r.kind === 'created' ? r.id : ''));
    const untagged = await accept(out, { to: '9056299' });
    const otherCaller = await accept(out, { to: '9056298', caller: 'billing', tag: 'camp-1' });
    // Some are claimed before the cancel: those are not canceled and not counted.
    const claimed = (await Promise.all([0, 1, 2].map((p) => out.claim(5, 2000, FAST, 'default', p)))).flatMap((c) => c.leases);
    const claimedTagged = claimed.filter((l) => tagged.includes(l.id));
    const canceled = await out.cancelTag('crm', 'camp-1', () => 3000);
    expect(canceled).toBe(n - claimedTagged.length);
    for (const l of claimed) await sent(out, l, 3001);
    const after = new Set(await drainAll(out, 10_000));
    const everSent = new Set([...after, ...claimed.map((l) => l.id)]);
    expect(everSent.has(untagged)).toBe(true);
    expect(everSent.has(otherCaller)).toBe(true);
    for (const id of tagged) expect(after.has(id)).toBe(false);
    expect((await store.get(tagged[0]!))?.status).toBe('canceled');
    // A second cancel finds nothing left; the list by tag still shows them.
    await expect(out.cancelTag('crm', 'camp-1', () => 11_000)).resolves.toBe(0);
    const page = await store.list({ caller: 'crm', tag: 'camp-1', limit: 200 });
    expect(page.records).toHaveLength(200);
    expect(page.records.every((r) => r.tag === 'camp-1' && r.caller === 'crm')).toBe(true);
    for (const l of claimedTagged) expect((await store.get(l.id))?.status).toBe('sent');
    // An admin's list by tag (no caller) merges every caller's index of that tag.
    const billing = await store.list({ tag: 'camp-1', limit: 10, to: '9056298' });
    expect(billing.records.map((r) => r.id)).toEqual([otherCaller]);
    expect(await out.backlog()).toEqual({ count: 0, bytes: 0 });
  });

  it('after a mass cancel, the claim says more (not idle) until it reaches what is still to send', async () => {
    const { out } = setup();
    await Promise.all(Array.from({ length: 2500 }, (_, i) => out.accept({ ...base, id: `mass${seq}-${i}-00`, to: `90564${String(i).padStart(5, '0')}`, nowMs: 1000, tag: 'mass' })));
    const keep = await accept(out, { to: '9056499', nowMs: 1001 });
    await expect(out.cancelTag('crm', 'mass', () => 1500)).resolves.toBe(2500);
    const states: string[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await out.claim(10, 2000, FAST);
      states.push(c.state);
      if (c.leases.length > 0) {
        expect(ids(c)).toEqual([keep]);
        break;
      }
      // Nothing found yet: only 'more' makes a dispatcher claim again at once.
      expect(c.state).toBe('more');
    }
    expect(states.length).toBeLessThan(20);
  });

  it('races the claim: each message is canceled and never leased, or leased and refused — never both', async () => {
    const { out } = setup();
    for (let round = 0; round < 200; round++) {
      const id = await accept(out, { to: `90563${round}`, ...(round % 3 === 0 ? { sendAtMs: 1500 } : {}) });
      // One connection runs the two in the order they were sent: alternate, so both orders are tried.
      const [claim, cancel] =
        round % 2 === 0
          ? await Promise.all([out.claim(10, 2000, FAST), out.cancel(id, 'crm', 2000)])
          : await Promise.all([out.cancel(id, 'crm', 2000), out.claim(10, 2000, FAST)]).then(([x, c]) => [c, x] as const);
      const leased = claim.leases.some((l) => l.id === id);
      if (cancel.kind === 'canceled') expect(leased).toBe(false);
      else expect({ leased, cancel }).toEqual({ leased: true, cancel: { kind: 'not-cancelable', status: 'sending' } });
      for (const l of claim.leases) await sent(out, l, 2001);
      expect(ids(await out.claim(10, 2002, FAST))).toEqual([]);
    }
  });
});

async function drainAll(out: Outbound, now: number): Promise<string[]> {
  const order: string[] = [];
  for (;;) {
    const claims = await Promise.all(out.partitions.bases.map((_, p) => out.claim(100, now, FAST, 'default', p)));
    const leases = claims.flatMap((c) => c.leases);
    if (leases.length === 0) return order;
    for (const l of leases) {
      order.push(l.id);
      await sent(out, l, now);
    }
  }
}
