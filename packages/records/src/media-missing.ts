import type { Cluster, Redis } from 'ioredis';

/** WhatsApp blocks media look-ups after repeated failures: a CBOT 404 is remembered this long. */
export const MEDIA_MISSING_TTL_S = 300;

/** The one place the key of a remembered missing media id is named: `<prefix>:media-missing:<channel>:<id>`. */
export function mediaMissingKey(prefix: string, channel: string, id: string): string {
  return `${prefix}:media-missing:${channel}:${id}`;
}

/**
 * Media ids CBOT answered 404 for, per channel, in Redis so every ingress process knows: a repeated
 * download is answered 404 without asking CBOT again until the entry expires.
 */
export class MediaMissing {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  readonly #ttlS: number;

  constructor(opts: { redis: Redis | Cluster; prefix: string; ttlS?: number }) {
    this.#redis = opts.redis;
    this.#prefix = opts.prefix;
    this.#ttlS = opts.ttlS ?? MEDIA_MISSING_TTL_S;
  }

  async has(channel: string, id: string): Promise<boolean> {
    return (await this.#redis.exists(mediaMissingKey(this.#prefix, channel, id))) === 1;
  }

  async remember(channel: string, id: string): Promise<void> {
    await this.#redis.set(mediaMissingKey(this.#prefix, channel, id), '1', 'EX', this.#ttlS);
  }
}
