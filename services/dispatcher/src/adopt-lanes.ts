import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { normalizeRecipient } from '@cbot-relay/messages';
import type { Logger } from '@cbot-relay/observability';
import { OutboundJob, QueueNames, queueNameFor } from '@cbot-relay/queues';
import type { Outbound } from '@cbot-relay/records';

export interface AdoptLanesOptions {
  redis: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  outbound: Outbound;
  log: Logger;
  now: () => number;
}

/**
 * The upgrade from the lane layout (BullMQ queues `out.<i>`, one message in flight per lane, before
 * per-recipient queues): moves every lane job still queued — waiting, delayed, or active under a
 * worker that is gone — onto its recipient's queue, in front of anything accepted since and in its
 * lane's order, then removes the lane queues. Runs in each dispatcher before it claims anything;
 * one at a time (a Redis lock), and the others wait for it. Safe to run again after a crash: a
 * record already moved is skipped. Old-version dispatchers must be stopped first (see README).
 * Returns how many messages were moved.
 */
export async function adoptLanes(opts: AdoptLanesOptions): Promise<number> {
  const { redis, prefix, log } = opts;
  const lanesKey = `${prefix}:lanes`;
  const lockKey = `${prefix}:o:adopting`;
  for (;;) {
    const recorded = await redis.get(lanesKey);
    if (recorded === null) return 0;
    if ((await redis.set(lockKey, '1', 'PX', 120_000, 'NX')) === 'OK') {
      try {
        return await adopt(opts, Number(recorded));
      } finally {
        await redis.del(lockKey);
      }
    }
    log.info('another dispatcher is moving lane jobs onto recipient queues; waiting');
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function adopt(opts: AdoptLanesOptions, lanes: number): Promise<number> {
  const { redis, prefix, cluster, outbound, log } = opts;
  // BullMQ only for this one-off upgrade: a dispatcher on the current layout never loads it.
  const { Queue } = await import('bullmq');
  // Per recipient, its lane jobs oldest first (one recipient always mapped to one lane).
  const byRecipient = new Map<string, string[]>();
  const queues: Queue[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    const queue = new Queue(queueNameFor(QueueNames.lane(lane), cluster), { connection: redis, prefix });
    queue.on('error', () => undefined);
    queues.push(queue);
    const jobs = await queue.getJobs(['active', 'wait', 'prioritized', 'delayed'], 0, -1, true);
    // BullMQ numbers jobs in the order they were added: that is the lane's acceptance order.
    jobs.sort((a, b) => Number(a.id) - Number(b.id));
    for (const job of jobs) {
      const data = OutboundJob.safeParse(job.data);
      if (!data.success) continue;
      const to = normalizeRecipient(data.data.to);
      const ids = byRecipient.get(to) ?? [];
      if (!ids.includes(data.data.id)) ids.push(data.data.id);
      byRecipient.set(to, ids);
    }
  }
  let moved = 0;
  for (const [to, ids] of byRecipient) {
    // Newest first, each in front of the queue: the oldest ends up at its head.
    for (const id of [...ids].reverse()) {
      if (await outbound.adopt(id, to, opts.now())) moved++;
    }
  }
  for (const queue of queues) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await redis.del(`${prefix}:lanes`);
  log.info({ moved, lanes }, 'moved the lane layout onto recipient queues');
  return moved;
}
