/**
 * Token bucket per API key, per ingress process: one noisy caller gets 429s while the others keep
 * their share. In-process on purpose — no Redis round trip on the hot path; with N ingress replicas a
 * caller's ceiling is N × rate. rate 0 disables it.
 */
export class KeyRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst = ratePerSecond,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when admitted (a token is taken), else ms until a token will be there. */
  admit(key: string): number {
    if (this.ratePerSecond <= 0) return 0;
    const t = this.now();
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSecond);
    b.at = t;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.ratePerSecond) * 1000);
  }
}
