import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, windowFor } from './key-rate-limiter.js';

describe('windowFor', () => {
  it('uses one-second windows of whole requests, and longer windows below 1/s', () => {
    expect(windowFor(5000)).toEqual({ points: 5000, windowS: 1 });
    expect(windowFor(2.4)).toEqual({ points: 2, windowS: 1 });
    expect(windowFor(1)).toEqual({ points: 1, windowS: 1 });
    expect(windowFor(0.5)).toEqual({ points: 1, windowS: 2 });
    expect(windowFor(0.1)).toEqual({ points: 1, windowS: 10 });
    expect(windowFor(0.3)).toEqual({ points: 1, windowS: 4 });
  });
});

describe('rateLimitHeaders', () => {
  it('writes the draft RateLimit-Policy and RateLimit fields, t in whole seconds rounded up', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 20, windowS: 1, remaining: 19, resetMs: 998 })).toEqual({
      'RateLimit-Policy': '"per-api-key";q=20;w=1',
      RateLimit: '"per-api-key";r=19;t=1',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 1, windowS: 10, remaining: 0, resetMs: 9_001 })['RateLimit']).toBe(
      '"per-api-key";r=0;t=10',
    );
  });
});
