import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const FULL_MS = 10_000;

/**
 * Redis is full for 10 s under load: `maxmemory` is set to what it uses (policy noeviction), so every
 * write that needs memory is refused with OOM, then lifted. Accepts answer 503 (the client retries with
 * its Idempotency-Key), callbacks are redelivered; a dispatcher holding CBOT's answer keeps its lease
 * (renewed by a script Redis runs under maxmemory) and writes the answer once Redis takes it — never a
 * second send.
 */
export const redisMaxmemory: Scenario = {
  name: 'redis-maxmemory',
  fault: `Redis at maxmemory (noeviction) for ${FULL_MS / 1000} s under load; CBOT 300 ms`,
  knobs: { latencyMs: 300 },
  ratePerS: 40,
  recipients: 80,
  inboundPerS: 2,
  drainTimeoutMs: 90_000,
  async inject(ctx) {
    const { client } = ctx.cluster;
    await sleep(4_000);
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    if (!Number.isFinite(used) || used <= 0) return ctx.fail('could not read used_memory');
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    await client.config('SET', 'maxmemory', String(used));
    ctx.log(`maxmemory set to used_memory (${used} B): writes refused for ${FULL_MS / 1000} s`);
    try {
      await sleep(FULL_MS);
    } finally {
      await client.config('SET', 'maxmemory', '0');
    }
    ctx.log('maxmemory lifted');
    await sleep(5_000);
  },
  async verify(ctx) {
    const refused = ctx.cluster.grep("Redis did not take CBOT's answer", 'dispatcher').length;
    const resends = await ctx.cluster.store.ambiguousResends();
    ctx.note(`${refused} CBOT answers were refused by Redis at first and written later; ${resends} resends`);
    if (refused === 0) ctx.fail('no CBOT answer was refused: Redis was not full while sends were in flight');
  },
};
