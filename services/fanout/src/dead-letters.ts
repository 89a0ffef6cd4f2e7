import type { Job } from 'bullmq';
import type { SubscriberQueues } from './subscriber-queues.js';
import type { Subscriber } from './subscriptions.js';

/** One event a subscriber never took: its job, kept in that subscriber queue's failed set for 7 days. */
export interface EventDeadLetter {
  kind: 'event';
  /** `<event id>.<subscriber>`, e.g. `evt_0123….analytics`: what `replay` takes. */
  id: string;
  subscriber: string;
  type: string;
  failedReason: string;
  attemptsMade: number;
  failedAt: string | null;
  event: unknown;
}

const DEAD_LETTER_ID = /^(evt_[0-9a-f]{32})\.([A-Za-z0-9_-]{1,64})$/;

export function deadLetterId(eventId: string, subscriber: string): string {
  return `${eventId}.${subscriber}`;
}

/**
 * Subscriber dead letters for the admin routes (`DeadLetterSource`): failed jobs of every subscriber
 * queue, HTTP pushes and queue subscriptions alike. Replay puts the job back with fresh attempts;
 * its id is the event id, so an HTTP receiver sees the same `webhook-id` again.
 */
export class EventDeadLetters {
  readonly #queues: SubscriberQueues;
  readonly #subscribers: ReadonlyMap<string, Subscriber>;

  constructor(opts: { queues: SubscriberQueues; subscribers: readonly Subscriber[] }) {
    this.#queues = opts.queues;
    this.#subscribers = new Map(opts.subscribers.map((s) => [s.name, s]));
  }

  /** Newest first, at most `limit` across all subscribers. */
  async list(limit: number): Promise<EventDeadLetter[]> {
    if (limit <= 0) return [];
    const perSub = await Promise.all(
      [...this.#subscribers.values()].map(async (sub) => {
        const jobs = await this.#queues.queue(sub).getFailed(0, limit - 1);
        return jobs.map((job) => toDeadLetter(sub, job));
      }),
    );
    return perSub
      .flat()
      .sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
      .slice(0, limit);
  }

  async replay(id: string): Promise<'replayed' | 'missing'> {
    const m = DEAD_LETTER_ID.exec(id);
    const sub = m?.[2] === undefined ? undefined : this.#subscribers.get(m[2]);
    if (!m?.[1] || !sub) return 'missing';
    const job = await this.#queues.queue(sub).getJob(m[1]);
    if (!job || (await job.getState()) !== 'failed') return 'missing';
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch (err) {
      // Another replay won the race: the job is no longer failed.
      if ((await job.getState()) !== 'failed') return 'missing';
      throw err;
    }
    return 'replayed';
  }
}

function toDeadLetter(sub: Subscriber, job: Job): EventDeadLetter {
  const eventId = job.id ?? '';
  return {
    kind: 'event',
    id: deadLetterId(eventId, sub.name),
    subscriber: sub.name,
    type: job.name,
    failedReason: job.failedReason ?? '',
    attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
    event: job.data,
  };
}
