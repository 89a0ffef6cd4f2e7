import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const DURATION_MS = 60_000;
const EVERY_MS = 2_000;

/**
 * Three dispatchers at a realistic CBOT latency (300 ms), and for a minute one of them, picked at
 * random, is SIGKILLed every 2 s and replaced (a tick is skipped while only one is live). Most kills land with sends on the wire: the dead
 * process's recipients stay leased until their lease expires (CBOT_TIMEOUT_MS + 10 s), then another
 * process resends only what CBOT may have got (counted) and keeps each recipient's order. The
 * outbound side is split into three partitions (as on a three-primary Redis Cluster, here on one
 * Redis), so the kills also land on claims and settles spread over partitions.
 */
export const dispatcherChurn: Scenario = {
  name: 'dispatcher-churn',
  fault: `3 dispatchers, SIGKILL one at random every ${EVERY_MS / 1000} s for ${DURATION_MS / 1000} s, CBOT 300 ms, 3 outbound partitions`,
  knobs: { latencyMs: 300 },
  partitions: 3,
  ratePerS: 60,
  recipients: 120,
  inboundPerS: 2,
  // The last kill's leases come back after 15 s, unsent claims after RECONCILE_WINDOW_S (30 s) more;
  // what queued behind them then needs a few seconds.
  drainTimeoutMs: 120_000,
  async inject(ctx) {
    const { cluster } = ctx;
    await cluster.startRole('dispatcher');
    const until = Date.now() + DURATION_MS;
    const replacements: Promise<unknown>[] = [];
    let kills = 0;
    let skipped = 0;
    while (Date.now() < until) {
      const tick = Date.now();
      // Never the last one standing: a replacement may still be starting.
      const live = cluster.live.dispatcher.length;
      if (live >= 2) {
        const code = await cluster.stopRole('dispatcher', Math.floor(Math.random() * live), 'SIGKILL');
        if (code !== null) ctx.fail(`kill ${kills + 1}: dispatcher exited with code ${code}, not by SIGKILL`);
        kills++;
        replacements.push(cluster.startRole('dispatcher'));
      } else skipped++;
      await sleep(Math.max(0, EVERY_MS - (Date.now() - tick)));
    }
    await Promise.all(replacements);
    ctx.log(`${kills} kills over ${DURATION_MS / 1000} s (${skipped} ticks skipped while replacements started)`);
    ctx.note(`${kills} dispatcher SIGKILLs, ${skipped} ticks skipped with one dispatcher left`);
    if (kills < 12) ctx.fail(`only ${kills} kills: the churn did not happen`);
  },
  async verify(ctx) {
    // A kill that hits a send in flight leaves an unknown outcome: reconciled from its status, or resent.
    const reconciled = ctx.cluster.grep('recorded sent, not sent again').length;
    const resends = await ctx.cluster.store.ambiguousResends();
    ctx.note(`${reconciled} messages whose answer died with a killed dispatcher reconciled from their status, ${resends} resent after the window`);
    if (reconciled + resends === 0) ctx.fail('no kill hit a send in flight: the scenario did not exercise lease expiry');
  },
};
