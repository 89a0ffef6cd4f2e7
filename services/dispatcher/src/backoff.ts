export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread
 * out without ever collapsing to zero. failures = 1 → base/2..base; each failure doubles, capped at
 * maxMs. With the defaults (1 s base, 60 s cap, 10 attempts) the worst case before giving up is
 * about 1+2+4+8+16+32+60+60+60 s ≈ 4 min, so a 2-minute CBOT outage is ridden out.
 */
export function backoffMs(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (step / 2) * random());
}
