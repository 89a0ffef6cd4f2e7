import { describe, expect, it } from 'vitest';
import { WINDOW_MS, inboundSeconds, windowState } from './window.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const S = NOW / 1000;

describe('windowState', () => {
  it('is open within 24 h of the last inbound and closed from 24 h on', () => {
    expect(windowState(S - 60, undefined, NOW)).toBe('open');
    expect(windowState(S - WINDOW_MS / 1000 + 1, undefined, NOW)).toBe('open');
    expect(windowState(S - WINDOW_MS / 1000, undefined, NOW)).toBe('closed');
    expect(windowState(S - 25 * 3600, NOW - 1000, NOW)).toBe('closed');
  });

  it('is unknown with no inbound until the channel has been tracked for 24 h, then closed', () => {
    expect(windowState(undefined, undefined, NOW)).toBe('unknown');
    expect(windowState(undefined, NOW - WINDOW_MS + 1, NOW)).toBe('unknown');
    expect(windowState(undefined, NOW - WINDOW_MS, NOW)).toBe('closed');
  });

  it('lets a known inbound win over the tracking time', () => {
    expect(windowState(S - 10, NOW - 10 * WINDOW_MS, NOW)).toBe('open');
  });
});

describe('inboundSeconds', () => {
  it("reads WhatsApp's unix seconds as a string or a number, clamped to now", () => {
    expect(inboundSeconds('1700000000', NOW)).toBe(1_700_000_000);
    expect(inboundSeconds(1_700_000_000, NOW)).toBe(1_700_000_000);
    expect(inboundSeconds(' 1700000000 ', NOW)).toBe(1_700_000_000);
    expect(inboundSeconds(String(S + 3600), NOW)).toBe(S);
  });

  it('gives undefined for what is not a time', () => {
    for (const v of [undefined, null, '', 'abc', '-5', '1e9', 0, -1, Number.NaN, Number.POSITIVE_INFINITY, {}, '9'.repeat(20)]) expect(inboundSeconds(v, NOW)).toBeUndefined();
  });
});
