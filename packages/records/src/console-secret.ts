import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** The string key holding one relay deployment's console secret (see ConsoleSecret). */
export function consoleSecretKey(prefix: string): string {
  return `${prefix}:console:secret`;
}

/** A signed-out console session: kept until the cookie would have expired anyway. */
export function consoleRevokedKey(prefix: string, sessionId: string): string {
  return `${prefix}:console:revoked:${sessionId}`;
}

/**
 * A random secret per relay deployment (per Redis and prefix), created once with SET NX by whichever
 * process asks first and read by every other: console session cookies are signed under it (and under
 * the admin key), so a cookie from another relay that shares an admin key is void here.
 */
export class ConsoleSecret {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  #secret: Promise<Buffer> | undefined;

  constructor(redis: Redis | Cluster, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
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
    const key = consoleSecretKey(this.#prefix);
    const fresh = randomBytes(32).toString('base64url');
    const previous = await this.#redis.set(key, fresh, 'NX', 'GET');
    return Buffer.from(previous ?? fresh, 'base64url');
  }

  /** Marks a session as signed out until `ttlS` from now. */
  async revoke(sessionId: string, ttlS: number): Promise<void> {
    await this.#redis.set(consoleRevokedKey(this.#prefix, sessionId), '1', 'EX', Math.max(1, Math.ceil(ttlS)));
  }

  async revoked(sessionId: string): Promise<boolean> {
    return (await this.#redis.exists(consoleRevokedKey(this.#prefix, sessionId))) === 1;
  }
}
