import { describe, expect, it } from 'vitest';
import { PUSH_BACKOFF_MAX_MS, pushBackoffMs } from './push-backoff.js';

describe('pushBackoffMs', () => {
  it('doubles from 1 s within a 0.8–1.0 jitter band', () => {
    expect(pushBackoffMs(1, () => 1)).toBe(1_000);
    expect(pushBackoffMs(1, () => 0)).toBe(800);
    expect(pushBackoffMs(4, () => 1)).toBe(8_000);
    expect(pushBackoffMs(4, () => 0)).toBe(6_400);
  });

  it('never exceeds 5 minutes', () => {
    expect(pushBackoffMs(9, () => 1)).toBe(256_000);
    expect(pushBackoffMs(10, () => 1)).toBe(PUSH_BACKOFF_MAX_MS);
    expect(pushBackoffMs(500, () => 1)).toBe(PUSH_BACKOFF_MAX_MS);
  });

  it('adds up to the worst case the comment states for 20 attempts', () => {
    let total = 0;
    for (let failures = 1; failures < 20; failures++) total += pushBackoffMs(failures, () => 1);
    expect(total).toBe(3_511_000);
  });
});
