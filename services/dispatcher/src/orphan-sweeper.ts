import type { Logger } from '@cbot-relay/observability';
import type { OutboundLanes } from '@cbot-relay/queues';
import type { MessageStore } from '@cbot-relay/records';
import type { Cluster, Redis } from 'ioredis';

export interface OrphanSweeperOptions {
  store: MessageStore;
  lanes: OutboundLanes;
  redis: Redis | Cluster;
  prefix: string;
  log: Logger;
  now?: () => number;
  /** Records younger than this are left alone: their request may still be adding the job. */
  minAgeMs?: number;
  intervalMs?: number;
  batch?: number;
}

/**
 * The ingress writes the record, then adds the job: two Redis calls. If the second never happened
 * the caller was told 503 and will retry, so the record is an orphan that must not be sent; this
 * sweep finds open records without a job and drops them. Runs in every dispatcher; a short Redis
 * lock keeps it to one at a time.
 */
export class OrphanSweeper {
  readonly #o: Required<Omit<OrphanSweeperOptions, 'now'>> & { now: () => number };
  #timer: NodeJS.Timeout | undefined;
  #cursor = -1;
  #running: Promise<void> | undefined;

  constructor(opts: OrphanSweeperOptions) {
    this.#o = { minAgeMs: 5 * 60_000, intervalMs: 60_000, batch: 500, now: Date.now, ...opts };
  }

  start(): this {
    this.#timer = setInterval(() => void this.sweep().catch((err: unknown) => this.#o.log.warn({ err }, 'orphan sweep failed')), this.#o.intervalMs);
    this.#timer.unref();
    return this;
  }

  /** One pass over up to `batch` old open records; returns how many orphans were dropped. */
  async sweep(): Promise<number> {
    const { store, lanes, redis, prefix, log } = this.#o;
    const lock = await redis.set(`${prefix}:sweeper`, '1', 'PX', Math.max(1_000, this.#o.intervalMs - 1_000), 'NX');
    if (lock !== 'OK') return 0;
    const open = await store.openBefore(this.#o.now() - this.#o.minAgeMs, this.#cursor, this.#o.batch);
    this.#cursor = open.length < this.#o.batch ? -1 : (open.at(-1)?.at ?? -1);
    let dropped = 0;
    for (const rec of open) {
      if (rec.status === undefined) {
        await store.discardOrphan(rec.id); // record expired: only the index entry is left
        continue;
      }
      if (rec.status !== 'queued' || rec.to === undefined) continue;
      // A record without a job id never had a job added.
      if (rec.job !== undefined && (await redis.exists(`${prefix}:${lanes.name(lanes.laneOf(rec.to))}:${rec.job}`)) === 1) continue;
      if (await store.discardOrphan(rec.id)) {
        dropped++;
        log.warn({ relayId: rec.id }, 'dropped a message that was never acknowledged (its request failed before queueing)');
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
