import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { MessageStore, Outbound, decodeCursor, encodeCursor } from './index.js';
import type { AcceptInput, ListQuery, MessageRecord } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const T0 = Date.UTC(2026, 0, 1);

function setup(recordTtlS = 3600) {
  const prefix = uniquePrefix();
  return { prefix, out: new Outbound({ redis, prefix, recordTtlS }), store: new MessageStore({ redis, prefix, recordTtlS }) };
}

function accept(out: Outbound, id: string, over: Partial<AcceptInput> = {}) {
  return out.accept({ id, to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', body, nowMs: T0, ...over });
}

/** Every page of a query, following cursors. */
async function all(store: MessageStore, q: Omit<ListQuery, 'cursor'>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: ListQuery['cursor'];
  let pages = 0;
  do {
    const page = await store.list({ ...q, ...(cursor ? { cursor } : {}) });
    pages++;
    ids.push(...page.records.map((r) => r.id));
    cursor = page.next;
  } while (cursor && pages < 100);
  return { ids, pages };
}

const statuses = (r: MessageRecord | undefined) => r?.history.map((e) => e.status);

describe('message history', () => {
  it('records each status once with its time, CBOT timestamp and error, and never moves back', async () => {
    const { out, store } = setup();
    await accept(out, 'h1');
    const claim = await out.claim(1, T0 + 100, FAST);
    const lease = claim.leases[0]!;
    await out.settle(lease, T0 + 250, { kind: 'sent', wamid: 'wamid.h1' });
    const cbotAt = Math.floor(T0 / 1000) + 2;
    expect(await store.applyStatus('wamid.h1', 'delivered', T0 + 3000, undefined, cbotAt)).toEqual({ relayId: 'h1', applied: true });
    // CBOT redelivers the same callback, then a late "sent": neither adds an entry.
    expect((await store.applyStatus('wamid.h1', 'delivered', T0 + 4000, undefined, cbotAt)).applied).toBe(false);
    expect((await store.applyStatus('wamid.h1', 'sent', T0 + 4500)).applied).toBe(false);
    await store.applyStatus('wamid.h1', 'read', T0 + 5000, undefined, cbotAt + 3);

    const rec = await store.get('h1');
    expect(rec?.status).toBe('read');
    expect(rec?.history).toEqual([
      { status: 'queued', at: new Date(T0).toISOString() },
      { status: 'sending', at: new Date(T0 + 100).toISOString() },
      { status: 'sent', at: new Date(T0 + 250).toISOString() },
      { status: 'delivered', at: new Date(T0 + 3000).toISOString(), cbotAt: new Date(cbotAt * 1000).toISOString() },
      { status: 'read', at: new Date(T0 + 5000).toISOString(), cbotAt: new Date((cbotAt + 3) * 1000).toISOString() },
    ]);
    // The short form keeps the record a compact listpack.
    expect(await redis.object('ENCODING', store.recKey('h1'))).toBe('listpack');
  });

  it('keeps a status that arrived before the send was recorded, and the error of a failure', async () => {
    const { out, store } = setup();
    await accept(out, 'h2');
    const lease = (await out.claim(1, T0 + 10, FAST)).leases[0]!;
    // The callback overtakes the dispatcher's own write.
    await store.applyStatus('wamid.h2', 'failed', T0 + 20, [{ code: 131026, title: 'undeliverable' }], Math.floor(T0 / 1000));
    await out.settle(lease, T0 + 30, { kind: 'sent', wamid: 'wamid.h2' });
    const rec = await store.get('h2');
    expect(statuses(rec)).toEqual(['queued', 'sending', 'sent', 'failed']);
    expect(rec?.history[3]).toEqual({
      status: 'failed',
      at: new Date(T0 + 20).toISOString(),
      cbotAt: new Date(T0).toISOString(),
      error: [{ code: 131026, title: 'undeliverable' }],
    });
    // WhatsApp may still report delivery after a failure; that moves forward.
    await store.applyStatus('wamid.h2', 'delivered', T0 + 40);
    expect(statuses(await store.get('h2'))).toEqual(['queued', 'sending', 'sent', 'failed', 'delivered']);

    // Two statuses overtake the send: both are kept, each with its own time.
    await accept(out, 'h4');
    const lease4 = (await out.claim(1, T0 + 10, FAST)).leases[0]!;
    await store.applyStatus('wamid.h4', 'delivered', T0 + 20, undefined, Math.floor(T0 / 1000) + 1);
    await store.applyStatus('wamid.h4', 'read', T0 + 25);
    await store.applyStatus('wamid.h4', 'delivered', T0 + 26);
    await out.settle(lease4, T0 + 30, { kind: 'sent', wamid: 'wamid.h4' });
    expect((await store.get('h4'))?.history.slice(2)).toEqual([
      { status: 'sent', at: new Date(T0 + 30).toISOString() },
      { status: 'delivered', at: new Date(T0 + 20).toISOString(), cbotAt: new Date(T0 + 1000).toISOString() },
      { status: 'read', at: new Date(T0 + 25).toISOString() },
    ]);
  });

  it('shows a replay and stays bounded however often a message fails and is replayed', async () => {
    const { out, store, prefix } = setup();
    await accept(out, 'h3');
    for (let i = 0; i < 100; i++) {
      const lease = (await out.claim(1, T0 + i * 10, FAST)).leases[0]!;
      await out.settle(lease, T0 + i * 10 + 1, { kind: 'failed', error: { code: 1 } });
      await out.replay('h3', T0 + i * 10 + 2);
    }
    const rec = await store.get('h3');
    expect(statuses(rec)?.slice(0, 5)).toEqual(['queued', 'sending', 'failed', 'queued', 'sending']);
    expect((await redis.hget(`${prefix}:msg:h3`, 'hist'))!.length).toBeLessThan(700);
  });
});

describe('MessageStore.list', () => {
  it('lists newest first with filters, across pages, and only the caller’s own', async () => {
    const { out, store } = setup();
    // 30 messages of crm to two recipients (a batch of 10 sharing one millisecond), 5 of billing.
    for (let i = 0; i < 20; i++) await accept(out, `a${String(i).padStart(2, '0')}`, { nowMs: T0 + i * 1000, to: i % 2 ? '905550000001' : '905550000002' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => accept(out, `b${i}`, { nowMs: T0 + 50_000 })));
    for (let i = 0; i < 5; i++) await accept(out, `c${i}`, { nowMs: T0 + i * 1000, caller: 'billing', to: '905550000001' });

    const crm = await all(store, { caller: 'crm', limit: 7 });
    expect(crm.ids).toHaveLength(30);
    expect(new Set(crm.ids).size).toBe(30);
    expect(crm.ids.slice(0, 10).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    expect(crm.ids.slice(10)).toEqual(Array.from({ length: 20 }, (_, i) => `a${String(19 - i).padStart(2, '0')}`));

    // Per recipient: billing's messages to the same number stay invisible to crm; an admin sees both.
    const to1 = await all(store, { caller: 'crm', to: '905550000001', limit: 3 });
    expect(to1.ids).toEqual(['a19', 'a17', 'a15', 'a13', 'a11', 'a09', 'a07', 'a05', 'a03', 'a01']);
    expect((await all(store, { to: '905550000001', limit: 50 })).ids).toHaveLength(15);
    expect((await all(store, { limit: 200 })).ids).toHaveLength(35);
    expect((await all(store, { caller: 'billing', limit: 50 })).ids).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);

    // since inclusive, until exclusive.
    const window = await all(store, { caller: 'crm', sinceMs: T0 + 5000, untilMs: T0 + 9000, limit: 50 });
    expect(window.ids).toEqual(['a08', 'a07', 'a06', 'a05']);

    // Status: one message sent.
    const lease = (await out.claim(1, T0 + 60_000, FAST)).leases[0]!;
    await out.settle(lease, T0 + 60_001, { kind: 'sent', wamid: 'w1' });
    expect((await store.list({ caller: 'crm', status: 'sent', limit: 50 })).records.map((r) => r.id)).toEqual([lease.id]);
  });

  it('keeps pages stable while new messages arrive', async () => {
    const { out, store } = setup();
    for (let i = 0; i < 10; i++) await accept(out, `s${i}`, { nowMs: T0 + i });
    const first = await store.list({ caller: 'crm', limit: 4 });
    expect(first.records.map((r) => r.id)).toEqual(['s9', 's8', 's7', 's6']);
    for (let i = 10; i < 15; i++) await accept(out, `s${i}`, { nowMs: T0 + i });
    const second = await store.list({ caller: 'crm', limit: 4, cursor: decodeCursor(encodeCursor(first.next!))! });
    expect(second.records.map((r) => r.id)).toEqual(['s5', 's4', 's3', 's2']);
  });

  it('trims index entries past the retention and drops those whose record expired', async () => {
    const { out, store, prefix } = setup(60);
    await accept(out, 'old1', { nowMs: T0 });
    await accept(out, 'old2', { nowMs: T0 + 1000 });
    // The retention (60 s) passes: the next accept trims every index it writes to.
    await accept(out, 'new1', { nowMs: T0 + 61_000 });
    for (const key of ['ix:c:crm', 'ix:t:905551112233']) {
      expect(await redis.zrange(`${prefix}:${key}`, '0', '-1')).toEqual(['old2', 'new1']);
      // A key no longer written to expires whole.
      expect(await redis.ttl(`${prefix}:${key}`)).toBeGreaterThan(50);
    }
    // A record that expired before its entry was trimmed is left out, and its entry goes.
    await redis.del(`${prefix}:msg:old2`);
    expect((await store.list({ caller: 'crm', limit: 10 })).records.map((r) => r.id)).toEqual(['new1']);
    expect(await redis.zrange(`${prefix}:ix:c:crm`, '0', '-1')).toEqual(['new1']);
  });

  it("lists everyone's messages by merging the callers' indexes", async () => {
    const { out, store, prefix } = setup();
    await accept(out, 'a1', { nowMs: T0, caller: 'crm' });
    await accept(out, 'b1', { nowMs: T0 + 1, caller: 'billing' });
    await accept(out, 'a2', { nowMs: T0 + 2, caller: 'crm' });
    expect((await redis.smembers(`${prefix}:ix:callers`)).sort()).toEqual(['billing', 'crm']);
    const first = await store.list({ limit: 2 });
    expect(first.records.map((r) => r.id)).toEqual(['a2', 'b1']);
    expect((await store.list({ limit: 2, cursor: first.next! })).records.map((r) => r.id)).toEqual(['a1']);
  });

  it('ends a page early with a cursor when a filter matches few of many entries', async () => {
    const { out, store } = setup();
    await accept(out, 'z-sent', { nowMs: T0, to: '905559999999' });
    const lease = (await out.claim(1, T0 + 1, FAST)).leases[0]!;
    await out.settle(lease, T0 + 2, { kind: 'sent', wamid: 'wz' });
    await Promise.all(Array.from({ length: 1100 }, (_, i) => accept(out, `q${String(i).padStart(4, '0')}`, { nowMs: T0 + 10 + i })));
    const first = await store.list({ caller: 'crm', status: 'sent', limit: 10 });
    expect(first.records).toEqual([]);
    expect(first.next).toBeDefined();
    const second = await store.list({ caller: 'crm', status: 'sent', limit: 10, cursor: first.next! });
    expect(second.records.map((r) => r.id)).toEqual(['z-sent']);
    expect(second.next).toBeUndefined();
  });
});

describe('list cursors', () => {
  it('round-trip and refuse what they did not make', () => {
    expect(decodeCursor(encodeCursor({ atMs: 123, id: 'msg_x' }))).toEqual({ atMs: 123, id: 'msg_x' });
    expect(decodeCursor('not a cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from('abc').toString('base64url'))).toBeUndefined();
  });
});

describe('memory per message (docs/performance.md)', () => {
  it('is measured with MEMORY USAGE: the indexes cost ~185 bytes a message, kept with the record', async () => {
    const { out, store, prefix } = setup(30 * 86_400);
    const n = 2000;
    const realBody = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'Siparişiniz yola çıktı, takip numarası TR1234567890.' } });
    const now = Date.now();
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        accept(out, `msg_${(now + i).toString(36).padStart(9, '0')}${String(i).padStart(16, '0')}`, {
          to: `9055500${String(i % 500).padStart(5, '0')}`,
          caller: i % 2 ? 'crm' : 'billing',
          body: realBody,
          nowMs: now + i,
        }),
      ),
    );
    const usage = async () => {
      const sums: Record<string, number> = {};
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        const sizes = await Promise.all(keys.map((k) => redis.memory('USAGE', k, 'SAMPLES', '0')));
        keys.forEach((k, i) => {
          const rest = k.slice(prefix.length + 1);
          const kind = rest.startsWith('msg:') ? 'record' : rest.startsWith('body:') ? 'body' : rest.startsWith('ix:') ? rest.split(':').slice(0, 2).join(':') : rest.startsWith('wamid:') ? 'wamid' : 'queue';
          sums[kind] = (sums[kind] ?? 0) + Number(sizes[i] ?? 0);
          if (kind.startsWith('ix:')) sums.indexes = (sums.indexes ?? 0) + Number(sizes[i] ?? 0);
        });
      } while (cursor !== '0');
      return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round(v / n)]));
    };
    const queued = await usage();
    // Every message sent (with a realistic wamid and attempt), delivered and read.
    for (let done = 0; done < n; ) {
      const claim = await out.claim(500, now + 10_000, FAST);
      for (const lease of claim.leases) {
        const wamid = `wamid.HBgMOTA1NTUwMDAwMDAxFQIAERgSQTVGRkE0${lease.id.slice(-16)}AA==`;
        await out.settle(lease, now + 10_100, { kind: 'sent', wamid }, { at: new Date(now + 10_100).toISOString(), outcome: 'sent', httpStatus: 201 });
        await store.applyStatus(wamid, 'delivered', now + 12_000, undefined, Math.floor(now / 1000) + 12);
        await store.applyStatus(wamid, 'read', now + 60_000, undefined, Math.floor(now / 1000) + 60);
        done++;
      }
    }
    const read = await usage();
    if (process.env.MEMORY_REPORT) {
      const key = store.recKey((await store.list({ limit: 1 })).records[0]!.id);
      const withHist = await redis.memory('USAGE', key, 'SAMPLES', '0');
      await redis.hdel(key, 'hist');
      console.info(JSON.stringify({ queued, read, histBytes: Number(withHist) - Number(await redis.memory('USAGE', key, 'SAMPLES', '0')) }));
    }
    // Two index entries per message (caller, recipient), and the caller set; measured 185 bytes.
    expect(read.indexes).toBeLessThan(230);
    // A delivered message's body is gone; what stays is the record and the wamid → id map.
    expect(read.body).toBeUndefined();
  }, 60_000);
});
