import type { Queue } from 'bullmq';

/**
 * The time up to which every CBOT callback the ingress took has been applied by a fanout: the
 * creation time of the oldest job still open on the inbound queue (waiting — paused included —,
 * active, delayed for a retry, or prioritized), or `now` when none is. Reconciliation reads it so that a message is
 * not sent again while a status that reached the relay within its window waits in a fanout backlog.
 * One script call plus one hash read per open state with a job, so cheap to ask every half second.
 */
export function callbacksAppliedUpTo(inbound: Pick<Queue, 'getJobs'>, now: () => number): () => Promise<number> {
  return async () => {
    const t = now();
    // asc: the oldest job of each state first.
    const jobs = await inbound.getJobs(['active', 'wait', 'delayed', 'prioritized'], 0, 0, true);
    return Math.min(t, ...jobs.map((j) => j?.timestamp).filter((ts): ts is number => typeof ts === 'number' && Number.isFinite(ts)));
  };
}
