import { randomBytes } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound, Partitions, Recipients } from './index.js';
import type { AcceptInput, Lease } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const H = 3_600_000;
const FAST = { leaseMs: 60_000, maxAgeMs: 3 * 86_400_000, ratePerSecond: 1_000_000 };
const newId = () => `msg_${Date.now().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;

function setup(partitions = 1) {
  // A hash-tagged prefix, as on Redis Cluster: each partition has a slot of its own.
  const prefix = `{${uniquePrefix()}}`;
  const opts = { redis, prefix, recordTtlS: 3600, partitions };
  return { parts: new Partitions(prefix, partitions), out: new Outbound(opts), store: new MessageStore(opts), rcp: new Recipients(opts) };
}

function text(to: string, over: Partial<AcceptInput> = {}): AcceptInput {
  return { id: newId(), to, type: 'text', caller: 'crm', priority: 'normal', nowMs: Date.now(), body: JSON.stringify({ to, type: 'text', text: { body: 'hi' } }), ...over };
}

async function claimAll(out: Outbound, now: number, windowPolicy: 'enforce' | 'warn' | 'off' = 'enforce') {
  const leases: Lease[] = [];
  const ended: { reason: string; id: string }[] = [];
  for (let k = 0; k < out.partitions.count; k++) {
    const c = await out.claim(100, now, { ...FAST, windowPolicy }, 'default', k);
    leases.push(...c.leases);
    ended.push(...c.ended);
  }
  return { leases, ended };
}

describe('customer-service window in the outbound scripts', () => {
  it('is unknown before any inbound, open within 24 h of one, closed after', async () => {
    const { out, rcp } = setup();
    const now = Date.now();
    const created = await out.accept(text('905550000001', { nowMs: now }));
    expect(created).toMatchObject({ kind: 'created', window: 'unknown' });
    await rcp.inbound('default', '905550000002', Math.floor(now / 1000) - 60, now);
    expect(await out.accept(text('905550000002', { nowMs: now }))).toMatchObject({ kind: 'created', window: 'open' });
    // 25 h old: closed; refused under enforce, nothing written.
    await rcp.setLastInbound('default', '905550000003', Math.floor((now - 25 * H) / 1000));
    const refused = await out.accept(text('905550000003', { nowMs: now }));
    expect(refused).toEqual({ kind: 'window', lastInboundAtS: Math.floor((now - 25 * H) / 1000) });
    expect(await out.backlog()).toMatchObject({ count: 2 });
    // A template is never window-checked; warn and off send.
    expect(await out.accept(text('905550000003', { nowMs: now, type: 'template' }))).toMatchObject({ kind: 'created', window: 'closed' });
    expect(await out.accept(text('905550000003', { nowMs: now, windowPolicy: 'warn' }))).toMatchObject({ kind: 'created', window: 'closed' });
    expect(await out.accept(text('905550000003', { nowMs: now, windowPolicy: 'off' }))).toMatchObject({ kind: 'created', window: 'closed' });
  });

  it('closes for a recipient never heard from once the channel has been tracked for 24 h', async () => {
    const { out, rcp } = setup();
    const now = Date.now();
    await rcp.setTrackedSince('default', now - 23 * H);
    expect(await out.accept(text('905550000010', { nowMs: now }))).toMatchObject({ kind: 'created', window: 'unknown' });
    await rcp.setTrackedSince('default', now - 24 * H);
    expect(await out.accept(text('905550000011', { nowMs: now }))).toEqual({ kind: 'window', lastInboundAtS: undefined });
    expect((await rcp.get('default', '905550000011', now)).window).toBe('closed');
  });

  it('never moves lastInboundAt backwards (an old redelivered callback)', async () => {
    const { rcp } = setup();
    const now = Date.now();
    const s = Math.floor(now / 1000);
    expect(await rcp.inbound('default', '905550000020', s - 10, now)).toBe(true);
    expect(await rcp.inbound('default', '905550000020', s - 30 * 3600, now)).toBe(false);
    const view = await rcp.get('default', '905550000020', now);
    expect(view).toMatchObject({ window: 'open', lastInboundAt: new Date((s - 10) * 1000).toISOString(), optedOut: false, optedOutAt: null });
    expect(view.windowClosesAt).toBe(new Date((s - 10) * 1000 + 24 * H).toISOString());
    // Kept at least the window plus a margin.
    expect(await redis.ttl(rcp.key('default', '905550000020'))).toBeGreaterThan(25 * 3600);
  });

  it('re-checks at the claim: a free-form message whose window closed while it waited ends failed; a fallback goes instead', async () => {
    const { out, rcp, store } = setup();
    const t0 = Date.now();
    await rcp.inbound('default', '905550000030', Math.floor(t0 / 1000), t0);
    const plain = await out.accept(text('905550000030', { nowMs: t0 }));
    const withFb = await out.accept(text('905550000031', { nowMs: t0, hasFallback: true }));
    await rcp.inbound('default', '905550000031', Math.floor(t0 / 1000), t0);
    const template = await out.accept(text('905550000030', { nowMs: t0, type: 'template' }));
    if (plain.kind !== 'created' || withFb.kind !== 'created' || template.kind !== 'created') throw new Error('accept');
    const later = t0 + 25 * H;
    const first = await claimAll(out, later);
    expect(first.ended).toEqual([{ reason: 'window', id: plain.id }]);
    expect((await store.get(plain.id))?.error).toMatchObject({ code: 'outside_customer_service_window' });
    expect((await store.get(plain.id))?.status).toBe('failed');
    // The template behind it goes; the fallback message goes as its fallback.
    const byTo = new Map(first.leases.map((l) => [l.to, l]));
    expect(byTo.get('905550000030')).toMatchObject({ id: template.id, fallback: 'none' });
    expect(byTo.get('905550000031')).toMatchObject({ id: withFb.id, fallback: 'use' });
    const rec = await store.get(withFb.id);
    expect(rec?.sentBody).toBe('fallback');
    expect(rec?.history.map((h) => h.status)).toEqual(['queued', 'fallback', 'sending']);
  });

  it('warn and off leave a closed window to CBOT at the claim', async () => {
    const { out, rcp } = setup();
    const t0 = Date.now();
    await rcp.inbound('default', '905550000040', Math.floor(t0 / 1000), t0);
    const a = await out.accept(text('905550000040', { nowMs: t0 }));
    const { leases, ended } = await claimAll(out, t0 + 25 * H, 'warn');
    expect(ended).toEqual([]);
    expect(leases.map((l) => l.id)).toEqual([a.kind === 'created' ? a.id : '']);
  });

  it('accept under enforce with a fallback takes the message and marks it to send the fallback', async () => {
    const { out, rcp, store } = setup();
    const now = Date.now();
    await rcp.setLastInbound('default', '905550000050', Math.floor((now - 25 * H) / 1000));
    const r = await out.accept(text('905550000050', { nowMs: now, hasFallback: true }));
    expect(r).toMatchObject({ kind: 'created', window: 'closed' });
    const rec = await store.get(r.kind === 'created' ? r.id : '');
    expect(rec?.sentBody).toBe('fallback');
    expect(rec?.history.map((h) => h.status)).toEqual(['queued', 'fallback']);
    const { leases } = await claimAll(out, now);
    expect(leases[0]).toMatchObject({ fallback: 'use' });
  });

  it("CBOT's window refusal switches a leased message to its fallback once, at its recipient's head", async () => {
    const { out, store } = setup();
    const now = Date.now();
    const a = await out.accept(text('905550000060', { nowMs: now, hasFallback: true }));
    const b = await out.accept(text('905550000060', { nowMs: now }));
    const [lease] = (await claimAll(out, now)).leases;
    expect(lease).toMatchObject({ fallback: 'has', id: a.kind === 'created' ? a.id : '' });
    await out.retry(lease!, now, { untilMs: now, countsAsFailure: false, keepInflight: false, maxAttempts: 10, error: { code: 131047 }, fallback: true }, { at: new Date(now).toISOString(), outcome: 'failed' });
    const [again] = (await claimAll(out, now + 1)).leases;
    expect(again).toMatchObject({ id: lease!.id, fallback: 'use' });
    expect((await store.get(lease!.id))?.history.filter((h) => h.status === 'fallback')).toHaveLength(1);
    expect(b.kind).toBe('created');
  });
});

describe('a window failure reported after the send', () => {
  it("requeues the failed message at its recipient's head (behind a message in flight) to go as its fallback, once", async () => {
    const { out, store } = setup(3);
    const now = Date.now();
    const to = '905550000090';
    const a = await out.accept(text(to, { nowMs: now, hasFallback: true }));
    const b = await out.accept(text(to, { nowMs: now }));
    const c = await out.accept(text(to, { nowMs: now }));
    if (a.kind !== 'created' || b.kind !== 'created' || c.kind !== 'created') throw new Error('accept');
    const [la] = (await claimAll(out, now)).leases;
    await out.settle(la!, now, { kind: 'sent', wamid: 'wamid.A' });
    const [lb] = (await claimAll(out, now)).leases;
    expect(lb?.id).toBe(b.id);
    // WhatsApp fails A for its window while B is in flight.
    await store.applyStatus('wamid.A', 'failed', now, [{ code: 131047 }], undefined, 'default', to);
    expect(await out.fallbackAfterFailure(a.id, now)).toBe(true);
    expect(await out.fallbackAfterFailure(a.id, now)).toBe(false);
    // The failed send's CBOT id no longer names the record: its redelivered callback moves nothing.
    expect((await store.applyStatus('wamid.A', 'failed', now, [{ code: 131047 }], undefined, 'default', to)).relayId).toBeUndefined();
    await out.settle(lb!, now, { kind: 'sent', wamid: 'wamid.B' });
    const [again] = (await claimAll(out, now)).leases;
    expect(again).toMatchObject({ id: a.id, fallback: 'use' });
    await out.settle(again!, now, { kind: 'sent', wamid: 'wamid.A2' });
    expect((await claimAll(out, now)).leases.map((l) => l.id)).toEqual([c.id]);
    const rec = await store.get(a.id);
    expect(rec).toMatchObject({ status: 'sent', sentBody: 'fallback', cbotMessageId: 'wamid.A2' });
    expect(rec?.history.map((h) => h.status)).toEqual(['queued', 'sending', 'sent', 'failed', 'fallback', 'queued', 'sending', 'sent']);
    // A message without a fallback stays failed.
    expect(await out.fallbackAfterFailure(b.id, now)).toBe(false);
  });
});

describe('opt-outs in the outbound scripts', () => {
  it('refuses accepts, fails queued messages at the claim, and lists and lifts opt-outs', async () => {
    const { out, rcp, store } = setup(3);
    const now = Date.now();
    const queued = await out.accept(text('905550000070', { nowMs: now }));
    expect(await rcp.optOut('default', '905550000070', now)).toBe(true);
    expect(await rcp.optOut('default', '905550000070', now + 1)).toBe(false);
    expect(await out.accept(text('905550000070', { nowMs: now, type: 'template' }))).toEqual({ kind: 'opted-out', optedOutAtMs: now });
    const { ended } = await claimAll(out, now);
    expect(ended).toEqual([{ reason: 'opted_out', id: queued.kind === 'created' ? queued.id : '' }]);
    expect((await store.get(ended[0]!.id))?.error).toMatchObject({ code: 'recipient_opted_out' });
    // A page per 2, across partitions, in recipient order.
    for (const to of ['905550000071', '905550000072', '905550000073']) await rcp.optOut('default', to, now);
    const p1 = await rcp.listOptOuts('default', undefined, 2);
    expect(p1.items.map((i) => i.to)).toEqual(['905550000070', '905550000071']);
    const p2 = await rcp.listOptOuts('default', p1.nextCursor!, 2);
    expect(p2).toMatchObject({ items: [{ to: '905550000072' }, { to: '905550000073' }], nextCursor: null });
    // A redelivered older STOP does not undo a later START.
    expect(await rcp.optIn('default', '905550000070', now + 10)).toBe(true);
    expect(await rcp.optOut('default', '905550000070', now + 5)).toBe(false);
    expect((await rcp.get('default', '905550000070', now)).optedOut).toBe(false);
    expect(await out.accept(text('905550000070', { nowMs: now }))).toMatchObject({ kind: 'created' });
    // Opted out on one channel only.
    expect((await rcp.get('sales', '905550000071', now)).optedOut).toBe(false);
  });

  it("keeps a recipient's rules in its own partition, the slot of its queue", async () => {
    const { out, rcp, parts } = setup(3);
    const now = Date.now();
    for (const to of ['905550000080', '905550000081', '905550000082', '905550000083']) {
      await rcp.inbound('default', to, Math.floor(now / 1000), now);
      await rcp.inbound('sales', to, Math.floor(now / 1000), now);
      await out.accept(text(to, { nowMs: now }));
      const base = parts.bases[parts.ofRecipient(to)]!;
      expect(calculateSlot(rcp.key('default', to))).toBe(calculateSlot(`${base}:o:q:${to}`));
      expect(calculateSlot(rcp.key('sales', to))).toBe(calculateSlot(`${base}:c:sales:o:q:${to}`));
      expect(await redis.exists(rcp.key('default', to))).toBe(1);
    }
    // The tracking mark is in every partition.
    for (const base of parts.bases) expect(await redis.exists(`${base}:o:wtrack`)).toBe(1);
  });
});
