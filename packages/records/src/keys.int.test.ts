import { describe, expect, it } from 'vitest';
import { ChannelKeys, PartitionKeys } from './keys.js';
import { loadLua } from './lua/loader.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

/** lua/includes/keys.lua, run in Redis under `base` on channel `ch`: the names it builds. */
async function luaNames(base: string, ch: string): Promise<string[]> {
  const src = loadLua('includes/keys');
  const lua = `local base = ARGV[1]\n${src.includes}\n${src.body}\nuseChannel(ARGV[2])
return {kq('t1'), kr('t1'), kring('h'), kready('n', 'crm'), kcredit('b'), HELD, LEASES, kwamid('w1'), kwamidb(20000, 7), kwpend('w1'), kwindow('t1'), kwtrack(), korph('t1'), RCPT, kreceipt('w1'),
  krec('m1'), kbody('m1'), kixCaller('crm'), kixTo('t1'), IX_CALLERS, CHANNELS, OPEN, OPEN_BYTES, PENDING, DLQ, IDLE, WAKE, HIST_ON, HIST_DIRTY, kusage(20000),
  SCHED, kixTag('crm', 'camp-1'), SEQ}`;
  return (await redis.eval(lua, 0, base, ch)) as string[];
}

function tsNames(base: string, ch: string): string[] {
  const p = new PartitionKeys(base);
  const c: ChannelKeys = p.channel(ch);
  return [
    c.queue('t1'), c.recipient('t1'), c.ring('h'), c.ready('n', 'crm'), c.credit('b'), c.held, c.leases, c.wamid('w1'), c.wamidBucket(20000, 7), c.parkedStatus('w1'), c.recipientRules('t1'), c.rulesTracked, c.orphans('t1'), c.receipts, c.receipt('w1'),
    p.record('m1'), p.body('m1'), p.callerIndex('crm'), p.recipientIndex('t1'), p.indexedCallers, p.channels, p.open, p.openBytes, p.pending,
    p.deadLetters, p.idle, p.wake, p.historyOn, p.historyDirty, p.usage(20000),
    c.scheduled, p.tagIndex('crm', 'camp-1'), p.scheduleSeq,
  ];
}

describe('key names', () => {
  it('are the same in keys.lua and keys.ts, for the default channel and another, with a hash tag', async () => {
    for (const [base, ch] of [['relay', 'default'], ['relay', 'sales'], ['{relay:p3}', 'default'], ['{relay:p3}', 'sales']] as const) {
      expect(await luaNames(base, ch)).toEqual(tsNames(base, ch));
    }
    expect(tsNames('relay', 'sales')[0]).toBe('relay:c:sales:o:q:t1');
    expect(tsNames('relay', 'default')[0]).toBe('relay:o:q:t1');
  });
});
