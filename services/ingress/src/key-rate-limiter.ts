import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RelayKeys } from '@cbot-relay/records';

/** One caller's standing after a request was counted. */
export interface KeyAdmission {
  allowed: boolean;
  /** Requests allowed per window. */
  limit: number;
  windowS: number;
  remaining: number;
  /** ms until the current window ends (and, when refused, until a request can succeed). */
  resetMs: number;
}

export interface KeyRateLimiterOptions {
  /** The HTTP side's fail-fast connection: a Redis outage must be an error at once, not a wait. */
  redis: Redis | Cluster;
  prefix: string;
  /** Requests per second per API key across every ingress process; 0 turns the limit off. */
  ratePerSecond: number;
}

/**
 * API_KEY_RATE_LIMIT, counted in Redis (rate-limiter-flexible's fixed windows: one atomic
 * INCR-with-expiry script on one key per API key), so the limit holds in total across ingress
 * replicas and applies to a lone caller too. A fixed window lets up to twice the limit through
 * around a window edge; that is the price of one key and one round trip per request.
 *
 * A caller refused in a window is refused again from memory until the window ends, so a flood
 * costs this process one Redis call per window, not one per request. Redis errors are thrown:
 * the send API answers them 503 like any Redis failure (the accept needs Redis anyway).
 */
export class KeyRateLimiter {
  readonly #limiter: RateLimiterRedis | undefined;
  readonly #points: number;
  readonly #windowS: number;

  constructor(opts: KeyRateLimiterOptions) {
    ({ points: this.#points, windowS: this.#windowS } = windowFor(opts.ratePerSecond));
    if (opts.ratePerSecond <= 0) return;
    this.#limiter = new RateLimiterRedis({
      storeClient: opts.redis,
      // One key per API key name, under the relay's prefix (and its hash tag in a cluster).
      keyPrefix: new RelayKeys(opts.prefix).apiKeyRatePrefix,
      points: this.#points,
      duration: this.#windowS,
      inMemoryBlockOnConsumed: this.#points + 1,
      rejectIfRedisNotReady: true,
    });
  }

  get enabled(): boolean {
    return this.#limiter !== undefined;
  }

  /** Counts one request for `key`; undefined when the limit is off. Rejects on a Redis error. */
  async admit(key: string): Promise<KeyAdmission | undefined> {
    if (!this.#limiter) return undefined;
    let res: RateLimiterRes;
    let allowed = true;
    try {
      res = await this.#limiter.consume(key, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res = err;
      allowed = false;
    }
    return { allowed, limit: this.#points, windowS: this.#windowS, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
  }
}

/**
 * Whole requests per whole-second window: 5000/s is 5000 per 1 s; a fractional rate below 1/s is
 * one request per ⌈1/rate⌉ s (0.1 → 1 per 10 s); above 1/s it is rounded to whole requests.
 */
export function windowFor(ratePerSecond: number): { points: number; windowS: number } {
  if (ratePerSecond >= 1) return { points: Math.round(ratePerSecond), windowS: 1 };
  if (ratePerSecond <= 0) return { points: 0, windowS: 1 };
  return { points: 1, windowS: Math.ceil(1 / ratePerSecond - 1e-9) };
}

const POLICY = '"per-api-key"';

/**
 * The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers (-09/-10):
 * `RateLimit-Policy: "per-api-key";q=5000;w=1` and `RateLimit: "per-api-key";r=4999;t=1`.
 */
export function rateLimitHeaders(a: KeyAdmission): Record<string, string> {
  const t = Math.max(0, Math.ceil(a.resetMs / 1000));
  return {
    'RateLimit-Policy': `${POLICY};q=${a.limit};w=${a.windowS}`,
    RateLimit: `${POLICY};r=${a.remaining};t=${t}`,
  };
}
