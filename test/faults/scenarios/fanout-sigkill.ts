import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const KILLS = 10;

/**
 * SIGKILL the older of the two fanouts, start a replacement, repeat ten times, while ~155 callbacks/s
 * (status callbacks of 50 msg/s plus inbound messages) flow. A killed worker's callback and push jobs
 * come back after their locks expire (BullMQ: 30 s lock + stalled check), so events may be pushed again
 * under the same webhook-id (reported) but never lost, and never duplicated under a new event id.
 */
export const fanoutSigkill: Scenario = {
  name: 'fanout-sigkill',
  fault: `SIGKILL a fanout worker mid-flight ×${KILLS}`,
  ratePerS: 50,
  recipients: 40,
  inboundPerS: 10,
  // Stalled jobs of the last kill come back after up to 30 s (lock) + 30 s (stalled interval).
  drainTimeoutMs: 120_000,
  async inject(ctx) {
    const { cluster } = ctx;
    await sleep(3_000);
    for (let k = 1; k <= KILLS; k++) {
      const code = await cluster.stopRole('fanout', 0, 'SIGKILL');
      if (code !== null) ctx.fail(`kill ${k}: fanout exited with code ${code}, not by SIGKILL`);
      ctx.log(`kill ${k}/${KILLS} (HTTP subscriber has ${cluster.receiver.acks.size} events); starting a replacement`);
      await cluster.startRole('fanout');
      await sleep(1_500);
    }
    await sleep(2_000);
  },
};
