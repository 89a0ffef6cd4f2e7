import type { Cluster, Redis } from 'ioredis';
import { RelayKeys } from './keys.js';

/**
 * Each channel's template list as last loaded from CBOT, shared by every ingress (RelayKeys.templates):
 * `list` (the templates, JSON, as CBOT gave them), `at` (ms, when loaded) and `stale` ('1' once a
 * template.status event said the list changed). One loader at a time per channel holds templatesLock.
 */

export interface TemplateStamp {
  atMs?: number;
  stale: boolean;
}

export class TemplateStore {
  readonly #redis: Redis | Cluster;
  readonly #keys: RelayKeys;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.#redis = opts.redis;
    this.#keys = new RelayKeys(opts.prefix);
  }

  /** When the list was loaded and whether it was marked stale: one small read, for the ingress's frequent look. */
  async stamp(channel: string): Promise<TemplateStamp> {
    const [at, stale] = await this.#redis.hmget(this.#keys.templates(channel), 'at', 'stale');
    return { ...(at == null ? {} : { atMs: Number(at) }), stale: stale === '1' };
  }

  /** The stored list (JSON text) and its load time; undefined when none was ever loaded. */
  async read(channel: string): Promise<{ listJson: string; atMs: number } | undefined> {
    const [list, at] = await this.#redis.hmget(this.#keys.templates(channel), 'list', 'at');
    return list == null || at == null ? undefined : { listJson: list, atMs: Number(at) };
  }

  async write(channel: string, listJson: string, atMs: number): Promise<void> {
    const key = this.#keys.templates(channel);
    await this.#redis.multi().hset(key, 'list', listJson, 'at', String(atMs)).hdel(key, 'stale').exec();
  }

  /** A template changed status: the next look by any ingress reloads the list. */
  async markStale(channel: string): Promise<void> {
    await this.#redis.hset(this.#keys.templates(channel), 'stale', '1');
  }

  /** True when this caller may load the channel's list now; the lock lapses after `ms`. */
  async lock(channel: string, ms: number): Promise<boolean> {
    return (await this.#redis.set(this.#keys.templatesLock(channel), '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(channel: string): Promise<void> {
    await this.#redis.del(this.#keys.templatesLock(channel));
  }
}
