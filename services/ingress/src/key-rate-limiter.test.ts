import { describe, expect, it } from 'vitest';
import { KeyRateLimiter } from './key-rate-limiter.js';

describe('KeyRateLimiter', () => {
  it('admits a burst, then refills at the rate, per key', () => {
    let now = 0;
    const rl = new KeyRateLimiter(10, 3, () => now);
    expect([rl.admit('a'), rl.admit('a'), rl.admit('a')]).toEqual([0, 0, 0]);
    expect(rl.admit('a')).toBe(100);
    expect(rl.admit('b')).toBe(0);
    now = 100;
    expect(rl.admit('a')).toBe(0);
    expect(rl.admit('a')).toBeGreaterThan(0);
  });

  it('is off at rate 0', () => {
    const rl = new KeyRateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(rl.admit('a')).toBe(0);
  });
});
