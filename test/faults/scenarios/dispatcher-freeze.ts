import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const FREEZE_MS = 30_000;

/**
 * One of the two dispatchers is frozen (SIGSTOP) for 30 s with sends on the wire — twice its lease
 * (CBOT_TIMEOUT_MS + 10 s = 15 s) — then thawed (SIGCONT). CBOT took what the frozen process had sent
 * but its answers go unread; the leases run out and the other dispatcher must reconcile those messages
 * from their status callbacks, not send them again. On thawing, the frozen process reads its answers
 * late (its settles record the truth but move no queue) and hands back what it had not sent yet.
 */
export const dispatcherFreeze: Scenario = {
  name: 'dispatcher-freeze',
  fault: `SIGSTOP a dispatcher for ${FREEZE_MS / 1000} s (longer than its 15 s lease) mid-flight, then SIGCONT; CBOT 300 ms`,
  knobs: { latencyMs: 300 },
  ratePerS: 40,
  recipients: 80,
  inboundPerS: 2,
  // The frozen process's recipients come back after 15 s; any it had claimed but not sent wait out
  // RECONCILE_WINDOW_S (30 s) more before they go out.
  drainTimeoutMs: 90_000,
  async inject(ctx) {
    const { cluster } = ctx;
    await sleep(3_000);
    const frozen = cluster.live.dispatcher[0];
    if (frozen?.pid === undefined) return ctx.fail('no dispatcher to freeze');
    process.kill(frozen.pid, 'SIGSTOP');
    ctx.log(`dispatcher ${frozen.pid} frozen for ${FREEZE_MS / 1000} s`);
    try {
      await sleep(FREEZE_MS);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
    ctx.log('thawed');
    await sleep(5_000);
  },
  async verify(ctx) {
    const reconciled = ctx.cluster.grep('recorded sent, not sent again').length;
    const resends = await ctx.cluster.store.ambiguousResends();
    ctx.note(`${reconciled} messages of the frozen dispatcher reconciled from their status callbacks; ${resends} sent again after the window`);
    if (reconciled === 0) ctx.fail('no message was reconciled: the freeze did not catch a send in flight');
  },
};
