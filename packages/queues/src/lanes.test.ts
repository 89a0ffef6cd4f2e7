import { describe, expect, it } from 'vitest';
import { laneFor } from './lanes.js';

describe('laneFor', () => {
  it('is stable and in range', () => {
    expect(laneFor('905551112233', 128)).toBe(laneFor('905551112233', 128));
    for (let i = 0; i < 1000; i++) {
      const lane = laneFor(`90555${i}`, 7);
      expect(lane).toBeGreaterThanOrEqual(0);
      expect(lane).toBeLessThan(7);
    }
  });

  it('spreads recipients over the lanes', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[laneFor(`9055${1_000_000 + i}`, 16)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});
