import { setTimeout as sleep } from 'node:timers/promises';
import { PartitionKeys } from '@cbot-relay/records';
import type { Scenario } from '../scenario.js';

const OUTAGE_MS = 120_000;
const STORM_MS = 15_000;

/**
 * CBOT answers 503 to every send for two minutes while callers keep sending, then a 429 storm: half
 * the sends get 429 with Retry-After: 1 for 15 s. Nothing may end `failed` (DISPATCH_MAX_ATTEMPTS is
 * sized for the outage, and 429s spend no attempts), and each recipient's order must hold through
 * every retry and pause.
 */
export const cbotOutage: Scenario = {
  name: 'cbot-outage-429',
  fault: `CBOT 503 for ${OUTAGE_MS / 60_000} min, then 429 storm (50 %, Retry-After 1 s) for ${STORM_MS / 1000} s`,
  ratePerS: 40,
  recipients: 40,
  inboundPerS: 2,
  drainTimeoutMs: 150_000,
  async inject(ctx) {
    const { sim } = ctx.cluster;
    await sleep(3_000);
    sim.setKnobs({ outageUntil: Date.now() + OUTAGE_MS });
    ctx.log('CBOT outage begins (every send answered 503)');
    for (let s = 30; s <= OUTAGE_MS / 1000; s += 30) {
      await sleep(30_000);
      ctx.log(`outage +${s}s: ${ctx.load.acceptedCount} accepted, CBOT has ${sim.counters().accepted}, 503s ${sim.counters().failures['503'] ?? 0}`);
    }
    sim.setKnobs({ outageUntil: 0, errorRate: 0.5, errorMix: { '429': 1 }, retryAfterSeconds: 1 });
    ctx.log('outage over; 429 storm begins');
    await sleep(STORM_MS);
    sim.setKnobs({ errorRate: 0 });
    ctx.log(`429 storm over (${sim.counters().failures['429'] ?? 0} answered 429)`);
    await sleep(3_000);
  },
  async verify(ctx) {
    const failed = await ctx.cluster.client.zcard(new PartitionKeys(ctx.cluster.prefix).deadLetters);
    if (failed > 0) ctx.fail(`${failed} messages ended failed (dead letters) instead of riding out the outage`);
  },
};
