import { describe, expect, it } from 'vitest';
import { parseTimeField, seconds, shortTime, timeFieldValue } from './format.js';

describe('console formats', () => {
  it('reads a filter time as UTC when it names no zone, and refuses what is not a time', () => {
    expect(parseTimeField('2026-12-06T05:30')).toBe(Date.UTC(2026, 11, 6, 5, 30));
    expect(parseTimeField('2026-12-06T05:30:00+01:00')).toBe(Date.UTC(2026, 11, 6, 4, 30));
    expect(parseTimeField('2026-12-06T05:30:00Z')).toBe(Date.UTC(2026, 11, 6, 5, 30));
    for (const bad of ['', '  ', 'yesterday', '"><script>', undefined, ['2026-12-06']]) expect(parseTimeField(bad)).toBeUndefined();
    expect(timeFieldValue(Date.UTC(2026, 11, 6, 5, 30))).toBe('2026-12-06T05:30');
  });

  it('shows times in UTC to the second and durations in a readable unit', () => {
    expect(shortTime('2026-12-06T05:30:10.123Z')).toBe('2026-12-06 05:30:10Z');
    expect(shortTime(null)).toBe('');
    expect(shortTime('nonsense')).toBe('');
    expect([seconds(5_000), seconds(600_000), seconds(3 * 3600_000)]).toEqual(['5 s', '10 min', '3 h']);
  });
});
