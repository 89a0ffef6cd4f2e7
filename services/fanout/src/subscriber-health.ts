import type { SubscriberQueues } from './subscriber-queues.js';
import type { Subscriber } from './subscriptions.js';

/** Failed jobs read to find the last error and count the recent ones (the newest first). */
const RECENT_FAILED = 100;

export interface SubscriberHealthRow {
  name: string;
  kind: 'queue' | 'http';
  enabled: boolean;
  waiting: number;
  oldestWaitingMs: number;
  failed: number;
  /** Of the newest 100 failures, those in the last 15 minutes. */
  failed15m: number;
  lastError?: { at: string | null; reason: string };
}

/**
 * Each subscriber's lag and failures, from its queue in Redis (what SubscriberRetention measures for
 * the lag gauges, read on demand by any process): the console's subscribers page and overview.
 */
export async function subscriberHealth(queues: SubscriberQueues, subscribers: readonly (Subscriber & { enabled?: boolean })[], nowMs: number): Promise<SubscriberHealthRow[]> {
  return Promise.all(
    subscribers.map(async (sub) => {
      const q = queues.queue(sub);
      const counts = await q.getJobCounts('wait', 'prioritized', 'delayed', 'failed');
      const waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
      const [[oldest], recent] = await Promise.all([(counts.wait ?? 0) > 0 ? q.getJobs(['wait'], 0, 0, true) : Promise.resolve([]), (counts.failed ?? 0) > 0 ? q.getFailed(0, RECENT_FAILED - 1) : Promise.resolve([])]);
      const last = recent[0];
      return {
        name: sub.name,
        kind: sub.kind,
        enabled: sub.enabled !== false,
        waiting,
        oldestWaitingMs: oldest ? Math.max(0, nowMs - oldest.timestamp) : 0,
        failed: counts.failed ?? 0,
        failed15m: recent.filter((j) => (j.finishedOn ?? 0) >= nowMs - 15 * 60_000).length,
        ...(last ? { lastError: { at: last.finishedOn ? new Date(last.finishedOn).toISOString() : null, reason: last.failedReason ?? '' } } : {}),
      };
    }),
  );
}
