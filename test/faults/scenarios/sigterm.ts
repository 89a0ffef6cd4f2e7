import { setTimeout as sleep } from 'node:timers/promises';
import type { Role } from '../relay-env.js';
import type { Scenario, ScenarioContext } from '../scenario.js';

/** CBOT's answer time while the dispatcher is told to stop: its sends are still on the wire then. */
const SLOW_CBOT_MS = 1_500;

/**
 * SIGTERM under load, one role at a time: a dispatcher (while CBOT takes 1.5 s to answer, so sends
 * are in flight), then the ingress, then a fanout. Each must finish or hand back what it has in
 * flight and exit 0 within SHUTDOWN_TIMEOUT_MS; a replacement then starts. A graceful stop has no
 * excuse for a lost CBOT answer, so here even a counted duplicate fails the scenario.
 */
export const sigterm: Scenario = {
  name: 'sigterm',
  fault: 'SIGTERM a dispatcher (sends in flight), the ingress, a fanout under load',
  knobs: { latencyMs: 40 },
  ratePerS: 50,
  recipients: 40,
  inboundPerS: 5,
  drainTimeoutMs: 90_000,
  async inject(ctx) {
    const { sim } = ctx.cluster;
    await sleep(4_000);
    sim.setKnobs({ latencyMs: SLOW_CBOT_MS });
    await sleep(1_000);
    await terminate(ctx, 'dispatcher', () => sim.setKnobs({ latencyMs: 40 }));
    await sleep(4_000);
    await terminate(ctx, 'ingress');
    await sleep(4_000);
    await terminate(ctx, 'fanout');
    await sleep(4_000);
  },
  async verify(ctx) {
    const resends = await ctx.cluster.store.ambiguousResends();
    if (resends > 0) ctx.fail(`${resends} resends after a possibly lost CBOT answer: a graceful stop left sends unrecorded`);
    const pushedTwice = [...ctx.cluster.receiver.acks.values()].filter((n) => n > 1).length;
    if (pushedTwice > 0) ctx.note(`${pushedTwice} events pushed twice under one webhook-id after a graceful fanout stop`);
  },
};

async function terminate(ctx: ScenarioContext, role: Role, afterExit?: () => void): Promise<void> {
  const t = Date.now();
  const code = await ctx.cluster.stopRole(role, 0, 'SIGTERM');
  const ms = Date.now() - t;
  afterExit?.();
  ctx.log(`${role} got SIGTERM: exit code ${code} after ${ms} ms; starting a replacement`);
  ctx.note(`${role} SIGTERM → exit ${code} in ${ms} ms`);
  if (code !== 0) ctx.fail(`${role} exited with ${code} on SIGTERM, expected 0`);
  await ctx.cluster.startRole(role);
}
