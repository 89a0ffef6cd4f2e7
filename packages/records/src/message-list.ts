import type { Cluster, Redis } from 'ioredis';
import type { MessageRecord } from './message-record.js';
import { recordFromHash } from './message-record.js';

/** Where a page ended: the last index entry looked at (acceptance time in ms, relay id). */
export interface ListCursor {
  atMs: number;
  id: string;
}

export interface ListQuery {
  /** Only this caller's messages; undefined: every caller's (an admin key). */
  caller?: string;
  /** The recipient as a key (normalizeRecipient). */
  to?: string;
  status?: string;
  /** Only messages with this X-Relay-Tag. */
  tag?: string;
  /** Accepted at or after (ms). */
  sinceMs?: number;
  /** Accepted before (ms). */
  untilMs?: number;
  limit: number;
  cursor?: ListCursor;
}

export interface ListPage {
  records: MessageRecord[];
  /** Present when there may be more: pass it back as `cursor`. */
  next?: ListCursor;
}

/**
 * Index entries one list call looks at, at most: a filter that few messages match (a status, another
 * caller's recipient) ends a page early with a cursor rather than reading the whole index.
 */
export const LIST_MAX_SCAN = 1000;

/** Opaque to callers: base64url of `<atMs>.<id>`. */
export function encodeCursor(c: ListCursor): string {
  return Buffer.from(`${c.atMs}.${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): ListCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(s)) return undefined;
  const m = /^(\d{1,16})\.([\x21-\x7e]{1,100})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
  return m ? { atMs: Number(m[1]), id: m[2]! } : undefined;
}

/** Where a list reads: its index zsets (merged), the index keys an id may sit in, and its record key. */
export interface ListKeys {
  indexes: string[];
  indexOf: (id: string) => string[];
  rec: (id: string) => string;
}

/**
 * Newest first over index zsets (score = acceptance ms, ties by relay id, descending), merged, from
 * after the cursor. Paging by (score, id) rather than by offset keeps pages stable while messages arrive.
 */
export async function listMessages(redis: Redis | Cluster, keys: ListKeys, q: ListQuery): Promise<ListPage> {
  let after = q.cursor;
  // A cursor at or past `until` (the caller changed the query): start below `until` instead.
  if (after && q.untilMs !== undefined && after.atMs >= q.untilMs) after = undefined;
  const top = q.untilMs === undefined ? '+inf' : `(${q.untilMs}`;
  const chunk = Math.min(200, Math.max(q.limit, 50));
  const records: MessageRecord[] = [];
  const gone: string[] = [];
  let scanned = 0;
  let exhausted = false;
  while (records.length < q.limit && scanned < LIST_MAX_SCAN) {
    const want = Math.min(chunk, LIST_MAX_SCAN - scanned);
    const entries = await nextMerged(redis, keys.indexes, after, top, q.sinceMs, want);
    if (entries.length === 0) {
      exhausted = true;
      break;
    }
    const hashes = await Promise.all(entries.map((e) => redis.hgetall(keys.rec(e.id))));
    let i = 0;
    for (; i < entries.length && records.length < q.limit; i++) {
      const e = entries[i]!;
      after = e;
      scanned++;
      const rec = recordFromHash(e.id, hashes[i]!);
      if (!rec) gone.push(e.id);
      else if (
        (q.caller === undefined || rec.caller === q.caller) &&
        (q.status === undefined || rec.status === q.status) &&
        (q.tag === undefined || rec.tag === q.tag)
      ) {
        records.push(rec);
      }
    }
    if (i === entries.length && entries.length < want) exhausted = true;
    if (exhausted) break;
  }
  // The record expired (its retention passed after its last change): its index entry goes too.
  for (const id of gone) for (const index of keys.indexOf(id)) await redis.zrem(index, id);
  return exhausted || !after ? { records } : { records, next: after };
}

/** The next `count` entries over every index, newest first (each index is read as far as the page could need). */
async function nextMerged(
  redis: Redis | Cluster,
  indexes: string[],
  after: ListCursor | undefined,
  top: string,
  sinceMs: number | undefined,
  count: number,
): Promise<ListCursor[]> {
  if (indexes.length === 1) return nextEntries(redis, indexes[0]!, after, top, sinceMs, count);
  const all = (await Promise.all(indexes.map((index) => nextEntries(redis, index, after, top, sinceMs, count)))).flat();
  // An id can sit in two of the indexes (an earlier release's index of every message beside a caller's).
  const once = [...new Map(all.map((e) => [e.id, e])).values()];
  return once.sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, count);
}

async function nextEntries(
  redis: Redis | Cluster,
  key: string,
  after: ListCursor | undefined,
  top: string,
  sinceMs: number | undefined,
  count: number,
): Promise<ListCursor[]> {
  const min = sinceMs === undefined ? '-inf' : String(sinceMs);
  const pairs = (flat: string[]) => {
    const out: ListCursor[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, atMs: Number(flat[i + 1]) });
    return out;
  };
  if (!after) return pairs(await redis.zrevrangebyscore(key, top, min, 'WITHSCORES', 'LIMIT', 0, count));
  // Entries sharing the cursor's millisecond (a batch's rows do) and below its id, then older ones.
  const ties = sinceMs === undefined || after.atMs >= sinceMs ? pairs(await redis.zrevrangebyscore(key, after.atMs, after.atMs, 'WITHSCORES')).filter((e) => e.id < after.id) : [];
  if (ties.length >= count) return ties.slice(0, count);
  const older = pairs(await redis.zrevrangebyscore(key, `(${after.atMs}`, min, 'WITHSCORES', 'LIMIT', 0, count - ties.length));
  return [...ties, ...older];
}
