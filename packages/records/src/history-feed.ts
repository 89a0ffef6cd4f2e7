import type { Cluster, Redis } from 'ioredis';
import { PartitionKeys } from './keys.js';
import { defineScript, replyInteger } from './lua/script.js';
import type { Script } from './lua/script.js';
import type { MessageRecord } from './message-record.js';
import { recordFromHash } from './message-record.js';
import { Partitions } from './partitions.js';

/** A changed record waiting to be copied: its id and the time of its change (ms), the dirty set's score. */
export interface DirtyEntry {
  id: string;
  mark: number;
}

/** One partition's changed records, as the history writer reads them (see lua/includes/history.lua). */
export interface DirtyPartition {
  take(n: number): Promise<DirtyEntry[]>;
  records(ids: string[]): Promise<MessageRecord[]>;
  done(entries: DirtyEntry[]): Promise<void>;
  /** Age of the oldest change not yet copied (ms), 0 when none. */
  lagMs(nowMs: number): Promise<number>;
}

/**
 * The Redis side of the history store: while it is on, every record change marks the record in its
 * partition's dirty set in the same Lua step (addHistory), and the writer drains the sets.
 */
export class HistoryFeed {
  readonly #redis: Redis | Cluster;
  readonly #keys: PartitionKeys[];
  readonly #done: Script<'dirty', 'entries', number>;

  constructor(opts: { redis: Redis | Cluster; prefix: string; partitions?: number }) {
    this.#redis = opts.redis;
    this.#keys = new Partitions(opts.prefix, opts.partitions ?? 1).bases.map((b) => new PartitionKeys(b));
    this.#done = defineScript(this.#redis, { name: 'history-done', keys: ['dirty'], args: ['entries'], parse: (r) => replyInteger(r, 'history-done') });
  }

  /**
   * Turns the marking on or off in every partition. A relay with HISTORY_DATABASE_URL turns it on at
   * start; one without turns it off, so a set nobody drains does not grow.
   */
  async enable(on: boolean): Promise<void> {
    await Promise.all(this.#keys.map((k) => (on ? this.#redis.set(k.historyOn, '1') : this.#redis.del(k.historyOn))));
  }

  partitions(): DirtyPartition[] {
    return this.#keys.map((k) => ({
      take: async (n) => {
        const flat = await this.#redis.zrange(k.historyDirty, '0', String(n - 1), 'WITHSCORES');
        const out: DirtyEntry[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, mark: Number(flat[i + 1]) });
        return out;
      },
      records: async (ids) => {
        const hashes = await Promise.all(ids.map((id) => this.#redis.hgetall(k.record(id))));
        return hashes.flatMap((h, i) => {
          const rec = recordFromHash(ids[i]!, h);
          return rec ? [rec] : [];
        });
      },
      done: async (entries) => {
        if (entries.length > 0) await this.#done({ dirty: k.historyDirty }, { entries: entries.map((e) => `${e.id} ${e.mark}`).join('\n') });
      },
      lagMs: async (nowMs) => {
        const first = await this.#redis.zrange(k.historyDirty, '0', '0', 'WITHSCORES');
        return first[1] === undefined ? 0 : Math.max(0, nowMs - Number(first[1]));
      },
    }));
  }
}
