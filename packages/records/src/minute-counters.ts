import type { Cluster, Redis } from 'ioredis';
import type { RelayKeys } from './keys.js';

export const MINUTE_FIELDS = ['accepted', 'sent', 'failed'] as const;
export type MinuteField = (typeof MINUTE_FIELDS)[number];

export interface MinuteRow {
  /** Start of the minute, epoch ms. */
  atMs: number;
  accepted: number;
  sent: number;
  failed: number;
}

/** A minute's hash lives 2 h: the console shows the last hour, with room for clocks that disagree. */
export const MINUTE_TTL_S = 2 * 3600;

/**
 * Messages accepted, sent and failed per minute, in Redis, for the console's overview (which reads the
 * relay's own data, not Prometheus): one hash per minute under the relay's prefix, counted by every
 * process. Counting is best effort and off the answer's path: a lost increment is a dip in a chart,
 * never a failed send.
 */
export class MinuteCounters {
  readonly #redis: Redis | Cluster;
  readonly #keys: RelayKeys;

  constructor(redis: Redis | Cluster, keys: RelayKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Increments not yet sent, by minute key: every bump of one event-loop turn goes to Redis as one pipeline. */
  #pending = new Map<string, Partial<Record<MinuteField, number>>>();

  /** Adds `n` to `field` of the minute `nowMs` falls in; never throws, never waits for Redis. */
  bump(field: MinuteField, n: number, nowMs: number): void {
    if (n <= 0) return;
    const key = this.#keys.minuteStats(Math.floor(nowMs / 60_000));
    if (this.#pending.size === 0) setImmediate(() => this.#flush());
    const counts = this.#pending.get(key) ?? {};
    counts[field] = (counts[field] ?? 0) + n;
    this.#pending.set(key, counts);
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = new Map();
    const p = this.#redis.pipeline();
    for (const [key, counts] of batch) {
      for (const [field, n] of Object.entries(counts)) p.hincrby(key, field, n);
      p.expire(key, MINUTE_TTL_S);
    }
    p.exec().catch(() => undefined);
  }

  /** The `minutes` minutes up to and including the one `nowMs` falls in, oldest first; missing minutes are zeros. */
  async recent(nowMs: number, minutes = 60): Promise<MinuteRow[]> {
    const last = Math.floor(nowMs / 60_000);
    const range = Array.from({ length: minutes }, (_, i) => last - minutes + 1 + i);
    const pipe = this.#redis.pipeline();
    for (const m of range) pipe.hgetall(this.#keys.minuteStats(m));
    const replies = (await pipe.exec()) ?? [];
    return range.map((m, i) => {
      const h = (replies[i]?.[1] ?? {}) as Record<string, string>;
      return { atMs: m * 60_000, accepted: Number(h.accepted ?? 0), sent: Number(h.sent ?? 0), failed: Number(h.failed ?? 0) };
    });
  }
}
