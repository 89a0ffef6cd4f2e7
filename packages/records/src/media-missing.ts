import type { Cluster, Redis } from 'ioredis';
import { RelayKeys } from './keys.js';

/** WhatsApp blocks media look-ups after repeated failures: a CBOT 404 is remembered this long. */
export const MEDIA_MISSING_TTL_S = 300;


/**
 * Media ids CBOT answered 404 for, per channel, in Redis so every ingress process knows: a repeated
 * download is answered 404 without asking CBOT again until the entry expires.
 */
export class MediaMissing {
  readonly #redis: Redis | Cluster;
  readonly #keys: RelayKeys;
  readonly #ttlS: number;

  constructor(opts: { redis: Redis | Cluster; prefix: string; ttlS?: number }) {
    this.#redis = opts.redis;
    this.#keys = new RelayKeys(opts.prefix);
    this.#ttlS = opts.ttlS ?? MEDIA_MISSING_TTL_S;
  }

  async has(channel: string, id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.mediaMissing(channel, id))) === 1;
  }

  async remember(channel: string, id: string): Promise<void> {
    await this.#redis.set(this.#keys.mediaMissing(channel, id), '1', 'EX', this.#ttlS);
  }
}
