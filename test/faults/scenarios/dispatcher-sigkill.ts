import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const KILLS = 10;

/**
 * SIGKILL the older of the two dispatchers, start a replacement, repeat ten times. CBOT answers after
 * 40 ms, so with 50 msg/s a kill almost always lands while a send is on the wire: the recipient stays leased
 * to the dead worker, then goes to the other dispatcher, which must resend only what CBOT may
 * have got (counted) and keep each recipient's order. Scheduled messages (X-Relay-Send-At) and a
 * campaign canceled by tag run in the mix: the scheduled ones must arrive once and not early, the
 * canceled ones never.
 */
export const dispatcherSigkill: Scenario = {
  name: 'dispatcher-sigkill',
  fault: `SIGKILL a dispatcher mid-flight ×${KILLS}`,
  knobs: { latencyMs: 40 },
  ratePerS: 50,
  recipients: 40,
  inboundPerS: 5,
  // Scheduled messages join the recipients' queues; a 300-message campaign is canceled mid-run, between kills.
  schedule: { ratePerS: 5, campaign: 300, cancelAfterMs: 15_000 },
  // A dead dispatcher's recipients come back when their leases expire (CBOT_TIMEOUT_MS + 10 s); one it
  // had claimed but not sent waits RECONCILE_WINDOW_S (30 s) more, then its recipient's backlog drains.
  drainTimeoutMs: 120_000,
  async inject(ctx) {
    const { cluster } = ctx;
    await sleep(3_000);
    for (let k = 1; k <= KILLS; k++) {
      const sentBefore = cluster.sim.counters().accepted;
      const code = await cluster.stopRole('dispatcher', 0, 'SIGKILL');
      if (code !== null) ctx.fail(`kill ${k}: dispatcher exited with code ${code}, not by SIGKILL`);
      ctx.log(`kill ${k}/${KILLS} (CBOT had ${sentBefore} messages); starting a replacement`);
      await cluster.startRole('dispatcher');
      await sleep(1_500);
    }
    await sleep(3_000);
  },
  async verify(ctx) {
    const reconciled = ctx.cluster.grep('recorded sent, not sent again').length;
    const resends = await ctx.cluster.store.ambiguousResends();
    ctx.note(`${reconciled} messages whose answer died with a killed dispatcher reconciled from their status, ${resends} resent after the window`);
  },
};
