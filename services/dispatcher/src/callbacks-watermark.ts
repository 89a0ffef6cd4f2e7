import type { Cluster, Redis } from 'ioredis';

/**
 * The time up to which every CBOT callback the ingress took has been applied by a fanout: the
 * creation time of the oldest job still open on the inbound queue (waiting, active, delayed for a
 * retry, or prioritized), or `now` when none is. Reconciliation reads it so that a message is not
 * sent again while a status that reached the relay within its window waits in a fanout backlog.
 *
 * Read straight from BullMQ's keys under `queueKey` (`<QUEUE_PREFIX>:<inbound queue name>`: the
 * `wait` and `active` lists hold the newest first, `delayed` and `prioritized` are sorted sets, each
 * job a hash with `timestamp`), so a dispatcher does not load BullMQ for it: four reads and one per
 * job found, cheap to ask every half second.
 */
export function callbacksAppliedUpTo(redis: Redis | Cluster, queueKey: string, now: () => number): () => Promise<number> {
  const k = (name: string) => `${queueKey}:${name}`;
  return async () => {
    const t = now();
    const [wait, active, delayed, prioritized] = await Promise.all([
      redis.lindex(k('wait'), -1),
      redis.lindex(k('active'), -1),
      redis.zrange(k('delayed'), '0', '0'),
      redis.zrange(k('prioritized'), '0', '0'),
    ]);
    const ids = [wait, active, delayed[0], prioritized[0]].filter((id): id is string => typeof id === 'string' && id !== '');
    const stamps = await Promise.all(ids.map((id) => redis.hget(k(id), 'timestamp')));
    return Math.min(t, ...stamps.map(Number).filter((ts) => Number.isFinite(ts) && ts > 0));
  };
}
