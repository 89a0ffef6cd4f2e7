import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { RelayKeys } from './keys.js';

/** Redis Cluster's slot count. */
const SLOTS = 16384;
export const MAX_PARTITIONS = 64;
/** Partitions on Redis Cluster when OUTBOUND_PARTITIONS is unset and Redis holds no outbound data yet. */
export const CLUSTER_DEFAULT_PARTITIONS = 12;

/**
 * How the outbound side is split: each partition is a whole outbound namespace (recipient queues,
 * scheduler, records, bodies, indexes, backlog, correlation) under its own base, so every script
 * stays inside one partition — and, on Redis Cluster, one hash slot. A recipient belongs to one
 * partition (a hash of the recipient), so its order needs nothing across partitions; a relay id
 * carries its partition in its last byte, so a record is found from its id alone.
 *
 * One partition (the default on a single Redis) keeps the relay's own key names: the base is the prefix.
 */
export class Partitions {
  readonly count: number;
  readonly bases: readonly string[];

  constructor(prefix: string, count = 1) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) throw new Error(`partitions: expected 1 to ${MAX_PARTITIONS}, got ${count}`);
    this.count = count;
    this.bases = Array.from({ length: count }, (_, k) => partitionBase(prefix, k, count));
  }

  /** The partition of a recipient (normalised, as queued). */
  ofRecipient(to: string): number {
    return this.count === 1 ? 0 : calculateSlot(to) % this.count;
  }

  /** The partition of a relay id (see `stamp`); ids from before partitions map to 0. */
  ofId(id: string): number {
    if (this.count === 1) return 0;
    const k = Number.parseInt(id.slice(-2), 16);
    return Number.isNaN(k) ? 0 : k % this.count;
  }

  /** A fresh relay id with its partition in its last byte (two hex digits, so the id keeps its shape). */
  stamp(id: string, k: number): string {
    return this.count === 1 ? id : id.slice(0, -2) + k.toString(16).padStart(2, '0');
  }
}

/**
 * Partition k of n. With a hash-tagged prefix (Redis Cluster), each partition gets its own tag, chosen
 * so that partition k's slot lies in the k-th n-th of the slot range: `redis-cli --cluster create`
 * (and most managed clusters) give each primary one contiguous range, so n partitions spread evenly
 * over the primaries whenever n is a multiple of their number. Deterministic: every process derives
 * the same bases.
 */
export function partitionBase(prefix: string, k: number, n: number): string {
  if (n === 1) return prefix;
  const tag = /\{([^}]+)\}/.exec(prefix);
  if (!tag) return `${prefix}:p${k}`;
  const lo = Math.floor((k * SLOTS) / n);
  const hi = Math.floor(((k + 1) * SLOTS) / n);
  for (let salt = 0; ; salt++) {
    const t = salt === 0 ? `${tag[1]}:p${k}` : `${tag[1]}:p${k}.${salt}`;
    const slot = calculateSlot(t);
    if (slot >= lo && slot < hi) return prefix.replace(tag[0], `{${t}}`);
  }
}

/**
 * The partition count this relay uses, fixed for the life of the Redis data: the first relay to start
 * writes it to `<prefix>:o:partitions`, and every later process takes it from there. `configured`
 * (OUTBOUND_PARTITIONS) must agree with what Redis holds; unset, a fresh Redis gets one partition,
 * or `CLUSTER_DEFAULT_PARTITIONS` on Redis Cluster. Throws with the reason when the configuration cannot be honoured.
 */
export async function resolvePartitions(
  redis: Redis | Cluster,
  prefix: string,
  opts: { configured?: number; cluster: boolean; readOnly?: boolean },
): Promise<number> {
  const marker = new RelayKeys(prefix).partitionCount;
  const stored = await redis.get(marker);
  if (stored !== null) {
    const n = Number(stored);
    if (opts.configured !== undefined && opts.configured !== n) {
      throw new PartitionsError(
        `OUTBOUND_PARTITIONS=${opts.configured}, but this Redis holds outbound data in ${n} partition(s) (${marker}); the count is fixed for the life of the data: set it to ${n} or leave it unset`,
      );
    }
    return n;
  }
  const n = opts.configured ?? (opts.cluster ? CLUSTER_DEFAULT_PARTITIONS : 1);
  if (opts.readOnly) return n;
  // Two processes starting at once agree: the first write wins and the other takes it.
  await redis.set(marker, String(n), 'NX');
  return resolvePartitions(redis, prefix, { ...opts, readOnly: true });
}

export class PartitionsError extends Error {}
