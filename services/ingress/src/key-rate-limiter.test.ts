import { describe, expect, it } from 'vitest';
import { KeyRateLimiter } from './key-rate-limiter.js';

describe('KeyRateLimiter', () => {
  it('admits a burst, then refills at the rate, per key, while callers compete', () => {
    let now = 0;
    const rl = new KeyRateLimiter(10, 3, () => now);
    expect(rl.admit('b')).toBe(0); // a second caller is active
    expect([rl.admit('a'), rl.admit('a'), rl.admit('a')]).toEqual([0, 0, 0]);
    expect(rl.admit('a')).toBe(100);
    expect(rl.admit('b')).toBe(0);
    now = 100;
    expect(rl.admit('a')).toBe(0);
    expect(rl.admit('a')).toBeGreaterThan(0);
  });

  it('never refuses a lone caller, but holds it to the rate as soon as another caller appears', () => {
    let now = 0;
    const rl = new KeyRateLimiter(10, 3, () => now);
    for (let i = 0; i < 50; i++) expect(rl.admit('flood')).toBe(0);
    now = 1_500; // 'flood' keeps going; its bucket is drawn down as it goes
    for (let i = 0; i < 30; i++) rl.admit('flood');
    expect(rl.admit('quiet')).toBe(0);
    expect(rl.admit('flood')).toBeGreaterThan(0);
    expect(rl.admit('quiet')).toBe(0);
    // Once the other caller has been quiet for the window, the lone caller is let through again.
    now = 2_600;
    expect(rl.admit('flood')).toBe(0);
    for (let i = 0; i < 20; i++) expect(rl.admit('flood')).toBe(0);
  });

  it('is off at rate 0', () => {
    const rl = new KeyRateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(rl.admit('a')).toBe(0);
  });
});
