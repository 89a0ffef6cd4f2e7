import { describe, expect, it } from 'vitest';
import { attemptField, attemptFromLine, recordFromHash } from './message-record.js';
import type { Attempt } from './message-record.js';

const at = '2026-12-06T07:24:07.123Z';

describe('the attempts field', () => {
  it('keeps an attempt without error or detail in a few bytes and reads it back as it was', () => {
    const sent: Attempt = { at, outcome: 'sent', httpStatus: 200 };
    expect(attemptField(sent)).toMatch(/^s[0-9a-z]+\/200$/);
    expect(attemptField(sent).length).toBeLessThan(16);
    for (const a of [sent, { at, outcome: 'expired' }, { at, outcome: 'replayed' }, { at: '1970-01-01T00:00:00.000Z', outcome: 'retry', httpStatus: 0 }] as Attempt[]) {
      expect(attemptFromLine(attemptField(a))).toEqual(a);
    }
  });

  it('keeps an attempt with an error, a detail or an unusual time as JSON', () => {
    for (const a of [
      { at, outcome: 'retry', httpStatus: 500, error: 'boom' },
      { at, outcome: 'unknown', detail: 'the answer was lost' },
      { at: '2026-12-06T07:24:07Z', outcome: 'sent' },
      { at: '2026-12-06T10:24:07.123+03:00', outcome: 'sent' },
    ] as Attempt[]) {
      expect(attemptField(a)).toBe(JSON.stringify(a));
      expect(attemptFromLine(attemptField(a))).toEqual(a);
    }
  });

  it("reads a record with the previous release's JSON lines and the compact ones together", () => {
    const old: Attempt = { at, outcome: 'throttled', httpStatus: 429, error: 'slow down' };
    const now: Attempt = { at: '2026-12-06T07:25:00.000Z', outcome: 'sent', httpStatus: 200 };
    const rec = recordFromHash('m1', { status: 'sent', createdAt: '1', attempts: `${JSON.stringify(old)}\n${attemptField(now)}\nnot an attempt` });
    expect(rec?.attempts).toEqual([old, now]);
  });
});
