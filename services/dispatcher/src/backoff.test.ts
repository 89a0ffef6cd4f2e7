import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.js';

const policy = { baseMs: 1000, maxMs: 60_000 };

describe('backoffMs', () => {
  it('doubles per failure within the jitter band', () => {
    expect(backoffMs(1, policy, () => 0)).toBe(500);
    expect(backoffMs(1, policy, () => 1)).toBe(1000);
    expect(backoffMs(3, policy, () => 0)).toBe(2000);
    expect(backoffMs(3, policy, () => 1)).toBe(4000);
  });

  it('caps at maxMs', () => {
    expect(backoffMs(30, policy, () => 1)).toBe(60_000);
    expect(backoffMs(30, policy, () => 0)).toBe(30_000);
  });
});
