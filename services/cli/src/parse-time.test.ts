import { describe, expect, it } from 'vitest';
import { intIn, parseSince } from './parse-time.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe('parseSince', () => {
  it('takes durations back from now', () => {
    expect(parseSince('90s', NOW)).toBe(NOW - 90_000);
    expect(parseSince('15m', NOW)).toBe(NOW - 900_000);
    expect(parseSince('2h', NOW)).toBe(NOW - 7_200_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 604_800_000);
    expect(parseSince('500ms', NOW)).toBe(NOW - 500);
  });

  it('takes ISO 8601 times with an offset', () => {
    expect(parseSince('2026-11-30T06:00:00Z', NOW)).toBe(Date.parse('2026-11-30T06:00:00Z'));
    expect(parseSince('2026-11-30T09:00:00.250+03:00', NOW)).toBe(Date.parse('2026-11-30T06:00:00.250Z'));
  });

  it('refuses a time without offset, words, negatives and impossible dates', () => {
    for (const bad of ['2026-11-30T06:00:00', 'yesterday', '-5m', '5', '5w', '', '2026-13-45T99:00:00Z']) {
      expect(() => parseSince(bad, NOW), bad).toThrow(/ISO 8601/);
    }
  });
});

describe('intIn', () => {
  it('takes whole numbers in range only', () => {
    expect(intIn(1, 10)('10')).toBe(10);
    for (const bad of ['0', '11', '1.5', 'x', '-1', '']) expect(() => intIn(1, 10)(bad), bad).toThrow(/whole number from 1 to 10/);
  });
});
