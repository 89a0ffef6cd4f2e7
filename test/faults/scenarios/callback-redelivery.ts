import { setTimeout as sleep } from 'node:timers/promises';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import type { Scenario } from '../scenario.js';

const EXTRA_COPIES = 3;

/**
 * CBOT redelivers every callback — inbound messages and sent/delivered/read statuses — 3 more times,
 * out of order: every 2 s the callbacks delivered since the last round are shuffled and each is sent
 * again 3 times, so e.g. a `read` copy lands before a `sent` copy. No event may appear twice under
 * two ids, and no message record may move back (every scenario checks that each message ends `read`).
 */
export function callbackRedelivery(): Scenario {
  /** Ids of the callbacks already redelivered. */
  const done = new Set<string>();
  return {
    name: 'callback-redelivery',
    fault: `every callback redelivered ${EXTRA_COPIES}× more, shuffled`,
    ratePerS: 30,
    recipients: 30,
    inboundPerS: 10,
    drainTimeoutMs: 90_000,
    async inject(ctx) {
      const until = Date.now() + 25_000;
      while (Date.now() < until) {
        await sleep(2_000);
        redeliverRound(ctx.cluster.sim, done);
      }
    },
    async afterLoad(ctx) {
      // Let the last sends and their sent/delivered/read callbacks happen, then redeliver those too.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        await sleep(1_000);
        const all = ctx.cluster.sim.callbacks();
        const settled = all.every((c) => c.deliveries.every((d) => d.state !== 'pending'));
        const sent = new Set(ctx.cluster.sim.received().map((m) => m.wamid));
        const statuses = all.filter((c) => c.kind === 'status').length;
        if (settled && statuses >= sent.size * 3) break;
      }
      redeliverRound(ctx.cluster.sim, done);
      ctx.note(`${done.size} callbacks redelivered ${EXTRA_COPIES}× each, in shuffled order`);
    },
  };
}

/** Redelivers, in shuffled order, every callback first delivered since the last round. */
function redeliverRound(sim: CbotSim, done: Set<string>): void {
  const fresh = sim.callbacks().filter((c) => !done.has(c.id) && c.deliveries[0]?.state === 'delivered');
  for (let i = fresh.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [fresh[i], fresh[j]] = [fresh[j]!, fresh[i]!];
  }
  for (const c of fresh) {
    done.add(c.id);
    sim.redeliver(c.id, EXTRA_COPIES).catch((err: unknown) => console.error(`faults: redeliver ${c.id}: ${String(err)}`));
  }
}
