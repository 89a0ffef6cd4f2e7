import type { Cluster, Redis } from 'ioredis';
import { RelayKeys } from './keys.js';
import { defineScript, replyInteger } from './lua/script.js';
import type { Script } from './lua/script.js';
import { SubscriberRecord } from './subscriber-record.js';

export interface SubscriberStoreOptions {
  redis: Redis | Cluster;
  /** QUEUE_PREFIX: every key lives under it (so in its hash slot on a Redis Cluster). */
  prefix: string;
}

export interface SubscriberSnapshot {
  /** Bumped by every change; fanout compares it to notice one it missed on Pub/Sub. */
  version: number;
  subscribers: SubscriberRecord[];
  /** Names whose stored value does not parse (skipped, never served). */
  invalid: string[];
}

export type SeedResult = { created: string[]; updated: string[]; kept: string[] };

type Keys = 'all' | 'deleted' | 'version';
const KEYS = ['all', 'deleted', 'version'] as const;
/**
 * The subscriber list in Redis: `<prefix>:subscribers` (hash name → JSON record),
 * `<prefix>:subscribers:deleted` (names deleted by the API, so a restart does not seed them again),
 * `<prefix>:subscribers:version` (a counter), and the Pub/Sub channel `<prefix>:subscribers:changed`
 * that carries each new version. Used by the ingress (admin API) and by every fanout process.
 */
export class SubscriberStore {
  readonly channel: string;
  readonly #redis: Redis | Cluster;
  readonly #keys: Record<Keys, string>;
  readonly #create: Script<Keys, 'name' | 'json' | 'channel' | 'seed', number>;
  readonly #replace: Script<Keys, 'name' | 'expected' | 'json' | 'channel', number>;
  readonly #delete: Script<Keys, 'name' | 'channel', number>;

  constructor(opts: SubscriberStoreOptions) {
    this.#redis = opts.redis;
    const keys = new RelayKeys(opts.prefix);
    this.#keys = { all: keys.subscribers, deleted: keys.subscribersDeleted, version: keys.subscribersVersion };
    this.channel = keys.subscribersChanged;
    // seed = '1': only when never deleted by the API; seed = 'empty': only when the list is empty too.
    this.#create = defineScript(opts.redis, { name: 'subscriber-create', keys: KEYS, args: ['name', 'json', 'channel', 'seed'], parse: (r) => replyInteger(r, 'subscriber-create') });
    this.#replace = defineScript(opts.redis, { name: 'subscriber-replace', keys: KEYS, args: ['name', 'expected', 'json', 'channel'], parse: (r) => replyInteger(r, 'subscriber-replace') });
    this.#delete = defineScript(opts.redis, { name: 'subscriber-delete', keys: KEYS, args: ['name', 'channel'], parse: (r) => replyInteger(r, 'subscriber-delete') });
  }

  async version(): Promise<number> {
    return Number((await this.#redis.get(this.#keys.version)) ?? 0);
  }

  /** Every stored subscriber, by name, with the version they belong to (read in one MULTI). */
  async snapshot(): Promise<SubscriberSnapshot> {
    const replies = await this.#redis.multi().get(this.#keys.version).hgetall(this.#keys.all).exec();
    if (!replies) throw new Error('subscriber snapshot: transaction aborted');
    for (const [err] of replies) if (err) throw err;
    const version = Number(replies[0]?.[1] ?? 0);
    const hash = (replies[1]?.[1] ?? {}) as Record<string, string>;
    const subscribers: SubscriberRecord[] = [];
    const invalid: string[] = [];
    for (const name of Object.keys(hash).sort()) {
      const rec = parse(hash[name]);
      if (rec) subscribers.push(rec);
      else invalid.push(name);
    }
    return { version, subscribers, invalid };
  }

  async get(name: string): Promise<SubscriberRecord | undefined> {
    return parse((await this.#redis.hget(this.#keys.all, name)) ?? undefined);
  }

  /** false when one of that name exists. */
  async create(rec: SubscriberRecord): Promise<boolean> {
    return (await this.#create(this.#keys, { name: rec.name, json: JSON.stringify(rec), channel: this.channel, seed: '0' })) === 1;
  }

  /**
   * Applies `change` to the stored record; undefined when there is none. A concurrent change makes
   * the compare-and-set fail and `change` runs again on the newer value, so no update is lost.
   * `change` returning `cur` itself writes nothing.
   */
  async update(name: string, change: (cur: SubscriberRecord) => SubscriberRecord): Promise<SubscriberRecord | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await this.#redis.hget(this.#keys.all, name);
      const cur = parse(raw ?? undefined);
      if (raw === null || !cur) return undefined;
      const next = change(cur);
      if (next === cur) return cur; // nothing to write: no version bump
      const done = await this.#replace(this.#keys, { name, expected: raw, json: JSON.stringify(next), channel: this.channel });
      if (done === 1) return next;
      if (done === -1) return undefined;
    }
    throw new Error(`subscriber ${name}: too many concurrent changes`);
  }

  /** false when there was none. Its queue and the jobs in it stay in Redis (see the README). */
  async delete(name: string): Promise<boolean> {
    return (await this.#delete(this.#keys, { name, channel: this.channel })) === 1;
  }

  /**
   * SUBSCRIPTIONS_FILE's rule: a file entry is created when no subscriber of its name exists and the
   * API never deleted one of that name; one that exists is updated to the file's entry only while
   * nothing but the file ever set it (`source: "file"`); once the API changed it, the API's version
   * stays. With no file (`fallback`), the fallback is created only into a store with no subscriber.
   */
  async seed(records: readonly SubscriberRecord[], fallback?: SubscriberRecord): Promise<SeedResult> {
    const out: SeedResult = { created: [], updated: [], kept: [] };
    if (records.length === 0) {
      if (!fallback) return out;
      const done = await this.#create(this.#keys, { name: fallback.name, json: JSON.stringify(fallback), channel: this.channel, seed: 'empty' });
      (done === 1 ? out.created : out.kept).push(fallback.name);
      return out;
    }
    for (const rec of records) {
      const done = await this.#create(this.#keys, { name: rec.name, json: JSON.stringify(rec), channel: this.channel, seed: '1' });
      if (done === 1) {
        out.created.push(rec.name);
        continue;
      }
      const raw = done === 0 ? await this.#redis.hget(this.#keys.all, rec.name) : null;
      const cur = parse(raw ?? undefined);
      if (raw !== null && cur?.source === 'file' && spec(cur) !== spec(rec)) {
        const next = JSON.stringify({ ...rec, createdAt: cur.createdAt });
        if ((await this.#replace(this.#keys, { name: rec.name, expected: raw, json: next, channel: this.channel })) === 1) {
          out.updated.push(rec.name);
          continue;
        }
      }
      out.kept.push(rec.name);
    }
    return out;
  }
}

/** What a subscriber is, less when it was written. */
function spec(rec: SubscriberRecord): string {
  const { createdAt: _c, updatedAt: _u, ...rest } = rec;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

function parse(raw: string | undefined): SubscriberRecord | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = SubscriberRecord.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
