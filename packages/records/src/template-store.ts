import type { Cluster, Redis } from 'ioredis';

/**
 * Each channel's template list as last loaded from CBOT, shared by every ingress: hash
 * `<prefix>:tpl:<channel>` with `list` (the templates, JSON, as CBOT gave them), `at` (ms, when
 * loaded) and `stale` ('1' once a template.status event said the list changed). One loader at a time
 * per channel holds `<prefix>:tpl:<channel>:lock`.
 */
export const templateKeys = (prefix: string, channel: string) => ({ list: `${prefix}:tpl:${channel}`, lock: `${prefix}:tpl:${channel}:lock` });

export interface TemplateStamp {
  atMs?: number;
  stale: boolean;
}

export class TemplateStore {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.#redis = opts.redis;
    this.#prefix = opts.prefix;
  }

  /** When the list was loaded and whether it was marked stale: one small read, for the ingress's frequent look. */
  async stamp(channel: string): Promise<TemplateStamp> {
    const [at, stale] = await this.#redis.hmget(templateKeys(this.#prefix, channel).list, 'at', 'stale');
    return { ...(at == null ? {} : { atMs: Number(at) }), stale: stale === '1' };
  }

  /** The stored list (JSON text) and its load time; undefined when none was ever loaded. */
  async read(channel: string): Promise<{ listJson: string; atMs: number } | undefined> {
    const [list, at] = await this.#redis.hmget(templateKeys(this.#prefix, channel).list, 'list', 'at');
    return list == null || at == null ? undefined : { listJson: list, atMs: Number(at) };
  }

  async write(channel: string, listJson: string, atMs: number): Promise<void> {
    const key = templateKeys(this.#prefix, channel).list;
    await this.#redis.multi().hset(key, 'list', listJson, 'at', String(atMs)).hdel(key, 'stale').exec();
  }

  /** A template changed status: the next look by any ingress reloads the list. */
  async markStale(channel: string): Promise<void> {
    await this.#redis.hset(templateKeys(this.#prefix, channel).list, 'stale', '1');
  }

  /** True when this caller may load the channel's list now; the lock lapses after `ms`. */
  async lock(channel: string, ms: number): Promise<boolean> {
    return (await this.#redis.set(templateKeys(this.#prefix, channel).lock, '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(channel: string): Promise<void> {
    await this.#redis.del(templateKeys(this.#prefix, channel).lock);
  }
}
