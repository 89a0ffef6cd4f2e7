import { describe, expect, it } from 'vitest';
import { countSchedule, scheduleFailures } from './schedule-driver.js';

// The scheduled/canceled counting must catch what it is there for: an early send, a canceled message sent.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (text: string, ms: number) => ({ body: { text: { body: text } }, receivedAt: new Date(T0 + ms).toISOString() });
const store = (statuses: Record<string, string>) => ({ status: async (id: string) => statuses[id], resends: async () => 0 });
const driver = {
  scheduled: [{ text: 's0-0', relayId: 'a', sendAtMs: T0 + 1000 }],
  campaign: [
    { text: 'c0-0', relayId: 'b', sendAtMs: T0 + 5000, tag: 't' },
    { text: 'c1-1', relayId: 'c', sendAtMs: T0 + 500, tag: 't' },
  ],
  cancel: { tag: 't', answeredAtMs: T0 + 2000, canceled: 1 },
};

describe('scheduled and canceled accounting', () => {
  it('passes a run where the scheduled message came after its time and the canceled one never came', async () => {
    const c = await countSchedule(driver, [at('c1-1', 600), at('s0-0', 1200)], store({ a: 'read', b: 'canceled', c: 'read' }));
    expect(scheduleFailures(c, [])).toEqual([]);
    expect(c.lateMs.max).toBe(200);
  });

  it('fails an early send, a canceled message that reached CBOT, a wrong count and a lost one', async () => {
    const early = await countSchedule(driver, [at('c1-1', 600), at('s0-0', 900)], store({ a: 'read', b: 'canceled', c: 'read' }));
    expect(scheduleFailures(early, []).join()).toContain('before their time');
    const leaked = await countSchedule(driver, [at('c1-1', 600), at('s0-0', 1200), at('c0-0', 5000)], store({ a: 'read', b: 'canceled', c: 'read' }));
    expect(scheduleFailures(leaked, []).join()).toContain('canceled messages reached CBOT');
    const miscounted = await countSchedule(driver, [at('s0-0', 1200), at('c1-1', 600)], store({ a: 'read', b: 'canceled', c: 'canceled' }));
    expect(scheduleFailures(miscounted, []).join()).toContain('answered 1 but 2');
    const lost = await countSchedule(driver, [at('c1-1', 600)], store({ a: 'queued', b: 'canceled', c: 'read' }));
    expect(scheduleFailures(lost, []).join()).toContain('scheduled messages lost');
  });
});
