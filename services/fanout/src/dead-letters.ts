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
  readonly #list: () => readonly Subscriber[] | Promise<readonly Subscriber[]>;

  /** `subscribers`: a fixed list, or read at each call (the live list of a `SubscriberStore`). */
  constructor(opts: { queues: SubscriberQueues; subscribers: readonly Subscriber[] | (() => readonly Subscriber[] | Promise<readonly Subscriber[]>) }) {
    this.#queues = opts.queues;
    const given = opts.subscribers;
    this.#list = typeof given === 'function' ? given : () => given;
  }

  async #subscribers(): Promise<ReadonlyMap<string, Subscriber>> {
    return new Map((await this.#list()).map((s) => [s.name, s]));
  }

  /** Newest first, at most `limit` across all subscribers. */
  async list(limit: number): Promise<EventDeadLetter[]> {
    if (limit <= 0) return [];
    const perSub = await Promise.all(
      [...(await this.#subscribers()).values()].map(async (sub) => {
        const jobs = await this.#queues.queue(sub).getFailed(0, limit - 1);
        return jobs.map((job) => toDeadLetter(sub, job));
      }),
    );
    return perSub
      .flat()
      .sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
      .slice(0, limit);
  }

  /**
   * Puts one failed job back with fresh attempts. BullMQ moves it out of the failed set in one
   * script that first checks it is there, so of two replays racing only one requeues it: the other
   * answers `not-failed`, and the subscriber gets one more delivery, not two.
   */
  async replay(id: string): Promise<EventReplayResult> {
    const m = DEAD_LETTER_ID.exec(id);
    const sub = m?.[2] === undefined ? undefined : (await this.#subscribers()).get(m[2]);
    if (!m?.[1] || !sub) return { kind: 'missing' };
    const job = await this.#queues.queue(sub).getJob(m[1]);
    if (!job) return { kind: 'missing' };
    const state = await job.getState();
    if (state !== 'failed') return { kind: 'not-failed', state };
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch (err) {
      // Another replay won the race: the job is no longer failed.
      const now = await job.getState();
      if (now !== 'failed') return now === 'unknown' ? { kind: 'missing' } : { kind: 'not-failed', state: now };
      throw err;
    }
    return { kind: 'replayed' };
  }

  /**
   * Replays every dead letter that failed at or after `sinceMs` (all when undefined), at most `max`
   * of them; the ids are read first, then each is replayed as `replay` does.
   */
  async replayMany(sinceMs: number | undefined, max: number): Promise<{ replayed: number; skipped: number; more: boolean }> {
    const { ids, more } = await this.failedIds(sinceMs, max);
    let replayed = 0;
    for (const id of ids) if ((await this.replay(id)).kind === 'replayed') replayed += 1;
    return { replayed, skipped: ids.length - replayed, more };
  }

  /**
   * Ids (`replay`'s) of the dead letters that failed at or after `sinceMs` (all when undefined), at
   * most `max`; `more` when others remain.
   */
  async failedIds(sinceMs: number | undefined, max: number): Promise<{ ids: string[]; more: boolean }> {
    const ids: string[] = [];
    let more = false;
    const page = 500;
    for (const sub of (await this.#subscribers()).values()) {
      const queue = this.#queues.queue(sub);
      for (let start = 0; ; start += page) {
        const jobs = await queue.getFailed(start, start + page - 1);
        for (const job of jobs) {
          if (sinceMs !== undefined && (job.finishedOn ?? 0) < sinceMs) continue;
          if (ids.length === max) more = true;
          else ids.push(deadLetterId(job.id ?? '', sub.name));
        }
        if (jobs.length < page || more) break;
      }
      if (more) break;
    }
    return { ids, more };
  }
}

export type EventReplayResult = { kind: 'replayed' } | { kind: 'missing' } | { kind: 'not-failed'; state: string };

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
