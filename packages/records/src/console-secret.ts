import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { RelayKeys } from './keys.js';

/**
 * A random secret per relay deployment (per Redis and prefix), created once with SET NX by whichever
 * process asks first and read by every other: console session cookies are signed under it (and under
 * the admin key), so a cookie from another relay that shares an admin key is void here.
 */
export class ConsoleSecret {
  readonly #redis: Redis | Cluster;
  readonly #keys: RelayKeys;
  #secret: Promise<Buffer> | undefined;

  constructor(redis: Redis | Cluster, keys: RelayKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** 32 random bytes, the same for every process of this relay; read from Redis once per process. */
  get(): Promise<Buffer> {
    this.#secret ??= this.#load().catch((err: unknown) => {
      this.#secret = undefined; // Redis was away: ask again next time
      throw err;
    });
    return this.#secret;
  }

  async #load(): Promise<Buffer> {
    const key = this.#keys.consoleSecret;
    const fresh = randomBytes(32).toString('base64url');
    const previous = await this.#redis.set(key, fresh, 'NX', 'GET');
    return Buffer.from(previous ?? fresh, 'base64url');
  }

  /** Marks a session as signed out until `ttlS` from now. */
  async revoke(sessionId: string, ttlS: number): Promise<void> {
    await this.#redis.set(this.#keys.consoleRevoked(sessionId), '1', 'EX', Math.max(1, Math.ceil(ttlS)));
  }

  async revoked(sessionId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.consoleRevoked(sessionId))) === 1;
  }
}
