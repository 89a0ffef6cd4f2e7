/** The backoff type name push jobs carry; only the push workers know how to compute it. */
export const PUSH_BACKOFF_TYPE = 'push-capped-exponential';

export const PUSH_BACKOFF_BASE_MS = 1_000;
export const PUSH_BACKOFF_MAX_MS = 5 * 60_000;

/**
 * Delay before the next push attempt after `failures` failed ones: 1 s, 2 s, 4 s … doubling, capped
 * at 5 min, then scaled by a random 0.8–1.0 so retries after a shared outage spread out while the cap
 * still holds.
 *
 * Worst case with the default PUSH_MAX_ATTEMPTS=20 (19 waits): 1+2+…+256 s (511 s) + 10 × 300 s
 * = 3,511 s ≈ 58.5 min of waiting (at least 0.8 × that ≈ 47 min), plus up to 20 × PUSH_TIMEOUT_MS
 * (10 s) of attempts, before the event becomes a dead letter. Each attempt past the 9th adds 5 min.
 */
export function pushBackoffMs(failures: number, random: () => number = Math.random): number {
  const step = Math.min(PUSH_BACKOFF_MAX_MS, PUSH_BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(step * (0.8 + 0.2 * random()));
}
