/**
 * Token bucket per API key, per ingress process, enforced while callers compete: when another key
 * has sent to this process within the last `contentionWindowMs`, a key over its rate gets 429s and
 * the others keep their share. A lone caller is never refused by it (there is nobody to starve; the
 * backlog bound still applies), but its bucket is drawn down all the same, so a flooding caller is
 * held to the rate as soon as a second caller appears. In-process on purpose — no Redis round trip on
 * the hot path; with N ingress replicas a caller's ceiling is N × rate. rate 0 disables it.
 */
export class KeyRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** The key seen last, and the last one seen before it that differs from it. */
  #latest: { key: string; at: number } | undefined;
  #previous: { key: string; at: number } | undefined;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst = ratePerSecond,
    private readonly now: () => number = Date.now,
    private readonly contentionWindowMs = 1_000,
  ) {}

  /** 0 when admitted (a token is taken), else ms until a token will be there. */
  admit(key: string): number {
    if (this.ratePerSecond <= 0) return 0;
    const t = this.now();
    const contended = this.#noteCaller(key, t);
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSecond);
    b.at = t;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    if (!contended) {
      b.tokens = Math.max(0, b.tokens - 1);
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.ratePerSecond) * 1000);
  }

  /** Records `key` as seen at `t`; true when another key was seen within the window. */
  #noteCaller(key: string, t: number): boolean {
    if (this.#latest?.key === key) this.#latest.at = t;
    else {
      this.#previous = this.#latest;
      this.#latest = { key, at: t };
    }
    return this.#previous !== undefined && t - this.#previous.at < this.contentionWindowMs;
  }
}
