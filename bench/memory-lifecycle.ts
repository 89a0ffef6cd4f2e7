import type { Redis } from 'ioredis';
import { HistoryFeed, MessageStore, Outbound, PartitionKeys, WAMID_LEGACY_TTL_S, wamidSpot } from '@cbot-relay/records';
import { templateMessage } from './payloads.js';

/** One stage of a message's life: Redis bytes per message (INFO used_memory delta) and where they are. */
export interface MemoryStage {
  bytesPerMessage: number;
  /** Per message, by key kind (MEMORY USAGE over every key under the prefix). */
  breakdown: Record<string, number>;
}

export interface LifecycleResult {
  messages: number;
  queued: MemoryStage;
  /** Sent, delivered and read (the simulator's usual statuses, with pricing), still in the hot window. */
  sent: MemoryStage;
  /** The same past the first hour: the previous release's wamid key, written for a rolling upgrade, has expired. */
  sentAfterFirstHour: number;
  /** With the history store on, what outlives HOT_RETENTION: MEMORY USAGE of keys without a TTL or with a longer one. */
  afterHotRetention: MemoryStage;
  /** The wamid mapping alone at a campaign's scale (1 M sends on one day): bytes per message. */
  wamidMappingAtScale: { messages: number; bytesPerMessage: number };
}

/** 48 h: HOT_RETENTION's default. */
const HOT_RETENTION_S = 48 * 3600;

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m?.[1]) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** Kinds of keys the relay writes per message, by key shape (docs/data-layer.md; internal names, not a contract). */
export function kindOf(prefix: string, key: string): string {
  const rest = key.slice(prefix.length + 1);
  const rules: [RegExp, string][] = [
    [/^msg:/, 'record hash'],
    [/^body:/, 'body string'],
    [/^idem:/, 'idempotency'],
    [/^open$/, 'open zset'],
    [/^ix:c:/, 'ix:c caller index'],
    [/^ix:t:/, 'ix:t recipient index'],
    [/^ix:g:/, 'ix:g tag index'],
    [/^(c:[^:]+:)?o:q:/, 'recipient queue'],
    [/^(c:[^:]+:)?o:r:/, 'recipient state'],
    [/^(c:[^:]+:)?o:ready:/, 'ready lists'],
    [/^(c:[^:]+:)?wamid:/, 'wamid key (first hour)'],
    [/^(c:[^:]+:)?wm:/, 'wamid buckets'],
    [/^(c:[^:]+:)?wpend:/, 'parked statuses'],
    [/^dlq$/, 'dead letters'],
    [/^hist:dirty$/, 'history dirty set'],
  ];
  return rules.find(([re]) => re.test(rest))?.[1] ?? 'other';
}

/** MEMORY USAGE of every key under `prefix` by kind, per message; `keep` filters keys by their TTL (s, -1 none). */
export async function breakdown(redis: Redis, prefix: string, messages: number, keep: (ttlS: number) => boolean = () => true): Promise<{ parts: Record<string, number>; total: number }> {
  const bytes: Record<string, number> = {};
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0').ttl(k);
    const out = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const size = Number(out[2 * i]?.[1] ?? 0);
      if (!keep(Number(out[2 * i + 1]?.[1] ?? -1))) return;
      const kind = kindOf(prefix, k);
      bytes[kind] = (bytes[kind] ?? 0) + size;
      total += size;
    });
  } while (cursor !== '0');
  const parts = Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, Math.round(v / messages)]));
  return { parts, total };
}

const PRICING = { billable: true, model: 'PMP', category: 'utility', type: 'regular' } as const;

/**
 * A campaign's life in Redis, through the relay's own store code (the same Lua the ingress,
 * dispatcher and fanout run): `count` template messages with two parameters to as many recipients
 * accepted; then each claimed, sent, delivered and read (with pricing); then, with the history store
 * on and its writer caught up, what outlives HOT_RETENTION. Bytes do not depend on CPU load.
 */
export async function measureLifecycle(o: { redis: Redis; prefix: string; count: number; log: (l: string) => void }): Promise<LifecycleResult> {
  const { redis, prefix, count } = o;
  const outbound = new Outbound({ redis, prefix, recordTtlS: HOT_RETENTION_S, maxAcceptBatch: 100 });
  const store = new MessageStore({ redis, prefix, recordTtlS: HOT_RETENTION_S });
  const feed = new HistoryFeed({ redis, prefix });
  await feed.enable(true);
  const base = await usedMemory(redis);
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
      const n = i + j;
      const to = `4917${String(n).padStart(8, '0')}`;
      const id = `msg_${now.toString(36).padStart(9, '0')}${n.toString(16).padStart(16, '0')}`;
      return outbound.accept({ id, to, type: 'template', caller: 'crm', priority: 'normal', nowMs: now, body: templateMessage(n, to) });
    });
    for (const r of await Promise.all(rows)) if (r.kind === 'created') ids.push(r.id);
  }
  const queued = await stage(redis, prefix, ids.length, base);

  let sent = 0;
  for (;;) {
    const claim = await outbound.claim(1000, Date.now(), { leaseMs: 60_000, maxAgeMs: 86_400_000, ratePerSecond: 1_000_000 });
    if (claim.leases.length === 0) break;
    await Promise.all(
      claim.leases.map(async (lease) => {
        const wamid = `wamid.HBgMNDkxNzAwMDAwMDAwFQIAERgSQjE${lease.id.slice(-16)}AA==`;
        await outbound.settle(lease, Date.now(), { kind: 'sent', wamid }, { at: new Date().toISOString(), outcome: 'sent', httpStatus: 200 });
        const cbotAtS = Math.floor(Date.now() / 1000);
        await store.applyStatus(wamid, 'delivered', Date.now(), undefined, cbotAtS, 'default', lease.to, PRICING);
        await store.applyStatus(wamid, 'read', Date.now(), undefined, cbotAtS, 'default', lease.to, PRICING);
        sent++;
      }),
    );
  }
  if (sent !== ids.length) o.log(`  warning: ${sent} of ${ids.length} sent`);
  // The history writer caught up: every record copied, the dirty set drained.
  for (const p of feed.partitions()) {
    for (;;) {
      const batch = await p.take(5000);
      if (batch.length === 0) break;
      await p.done(batch);
    }
  }
  const sentStage = await stage(redis, prefix, ids.length, base);
  // Past HOT_RETENTION every key whose TTL is at most HOT_RETENTION has expired (the list indexes too:
  // their entries are trimmed by the next write, or the key expires whole); the rest stays.
  const after = await breakdown(redis, prefix, ids.length, (ttl) => ttl < 0 || ttl > HOT_RETENTION_S);
  const afterStage = { bytesPerMessage: after.total / ids.length, breakdown: after.parts };
  const firstHour = await breakdown(redis, prefix, ids.length, (ttl) => ttl > 0 && ttl <= WAMID_LEGACY_TTL_S);
  await feed.enable(false);
  const wamidMappingAtScale = await mappingAtScale(redis, `${prefix}-wm`, 1_000_000);
  return { messages: ids.length, queued, sent: sentStage, sentAfterFirstHour: sentStage.bytesPerMessage - firstHour.total / ids.length, afterHotRetention: afterStage, wamidMappingAtScale };
}

/**
 * The day buckets as includes/wamid.lua fills them (the same slot and field, wamidSpot), with n
 * mappings of one day: at a small count most buckets hold one entry and their own key's cost shows;
 * at a campaign's scale they hold ~60 and the entries' cost does.
 */
async function mappingAtScale(redis: Redis, prefix: string, n: number): Promise<{ messages: number; bytesPerMessage: number }> {
  const ch = new PartitionKeys(prefix).channel('default');
  const day = Math.floor(Date.now() / 86_400_000);
  const before = await usedMemory(redis);
  const keys = new Set<string>();
  for (let i = 0; i < n; i += 10_000) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const { slot, field } = wamidSpot(`wamid.HBgMNDkxNzAwMDAwMDAwFQIAERgSQjE${j.toString(16).padStart(16, '0')}AA==`);
      const key = ch.wamidBucket(day, slot);
      keys.add(key);
      pipe.hset(key, field, `msg_${Date.now().toString(36)}${j.toString(16).padStart(16, '0')}`);
    }
    await pipe.exec();
  }
  const bytesPerMessage = ((await usedMemory(redis)) - before) / n;
  const all = [...keys];
  for (let i = 0; i < all.length; i += 1000) await redis.del(...all.slice(i, i + 1000));
  return { messages: n, bytesPerMessage };
}

async function stage(redis: Redis, prefix: string, n: number, base: number): Promise<MemoryStage> {
  const used = await usedMemory(redis);
  return { bytesPerMessage: (used - base) / n, breakdown: (await breakdown(redis, prefix, n)).parts };
}
