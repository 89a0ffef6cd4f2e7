import { describe, expect, it } from 'vitest';
import { MessageStatus, STATUS_RANK, isMessageStatus } from './message-status.js';

describe('message status', () => {
  it('ranks the statuses in the order a message moves', () => {
    const rank = (s: MessageStatus) => STATUS_RANK[s];
    expect(rank('scheduled')).toBeLessThan(rank('queued'));
    expect(rank('queued')).toBeLessThan(rank('sending'));
    expect(rank('sending')).toBeLessThan(rank('sent'));
    expect(rank('sent')).toBeLessThan(rank('failed'));
    expect(rank('failed')).toBe(rank('expired'));
    expect(rank('canceled')).toBe(rank('expired'));
    expect(rank('failed')).toBeLessThan(rank('delivered'));
    expect(rank('delivered')).toBeLessThan(rank('read'));
    expect(Object.keys(STATUS_RANK).sort()).toEqual([...MessageStatus.options].sort());
  });

  it('recognises only the relay statuses', () => {
    for (const s of MessageStatus.options) expect(isMessageStatus(s)).toBe(true);
    for (const s of ['deleted', 'warning', 'toString', '__proto__', 'constructor', '', 3, null, undefined]) {
      expect(isMessageStatus(s)).toBe(false);
    }
  });
});
