import type { Logger } from '@cbot-relay/observability';
import type { MessageRecord, MessageStore, Outbound } from '@cbot-relay/records';
import { RELAY_ID_PATTERN } from './relay-id.js';

export interface DeadLetterSource {
  /** Subscriber dead letters (HTTP pushes), read from their queues in Redis by any process. */
  list(limit: number): Promise<unknown[]>;
  replay(id: string): Promise<{ kind: 'replayed' } | { kind: 'missing' } | { kind: 'not-failed'; state: string }>;
  /** Replays those that failed at or after `sinceMs` (all when undefined), at most `max`. */
  replayMany(sinceMs: number | undefined, max: number): Promise<{ replayed: number; skipped: number; more: boolean }>;
}

/** Dead letters one replay-many call takes per kind; `more: true` in the answer says call again. */
export const REPLAY_MANY_MAX = 10_000;

export type DeadLetterReplay =
  | { kind: 'replayed'; what: 'message' | 'event' }
  | { kind: 'not-failed'; what: 'message' | 'event'; status: string }
  | { kind: 'body-expired' }
  | { kind: 'missing' };

export interface ReplayCounts {
  replayed: number;
  skipped: number;
  more: boolean;
}

export interface DeadLettersDeps {
  store: MessageStore;
  outbound: Outbound;
  events?: DeadLetterSource;
  now: () => number;
  log: Logger;
}

/**
 * Dead letters, one facade for every way in: the admin API (admin-routes.ts) and the console both
 * list and replay through here, so a replay is the same Lua step and the same log line whichever
 * asked. `admin` is the admin key's name, logged with each replay.
 */
export class DeadLetters {
  readonly #d: DeadLettersDeps;

  constructor(deps: DeadLettersDeps) {
    this.#d = deps;
  }

  /** Failed messages newest first (one page from `beforeMs`), and subscriber dead letters on the first page. */
  async list(limit: number, beforeMs?: number): Promise<{ messages: MessageRecord[]; events: unknown[]; next?: number }> {
    const page = await this.#d.store.deadLetters(limit, beforeMs);
    const events = this.#d.events && beforeMs === undefined ? await this.#d.events.list(limit) : [];
    return { messages: page.records, events, ...(page.next === undefined ? {} : { next: page.next }) };
  }

  /** Replays one dead letter: a failed message (relay id) or a subscriber's (`evt_….<subscriber>`). */
  async replay(id: string, admin: string): Promise<DeadLetterReplay> {
    if (RELAY_ID_PATTERN.test(id)) {
      const result = await this.#d.outbound.replay(id, this.#d.now());
      switch (result.kind) {
        case 'replayed':
          this.#d.log.info({ relayId: id, admin }, 'dead letter replayed');
          return { kind: 'replayed', what: 'message' };
        case 'not-failed':
          return { kind: 'not-failed', what: 'message', status: result.status };
        case 'no-body':
          return { kind: 'body-expired' };
        case 'missing':
          return { kind: 'missing' };
      }
    }
    if (this.#d.events && id.startsWith('evt_')) {
      const outcome = await this.#d.events.replay(id);
      if (outcome.kind === 'replayed') {
        this.#d.log.info({ deadLetter: id, admin }, 'event dead letter replayed');
        return { kind: 'replayed', what: 'event' };
      }
      if (outcome.kind === 'not-failed') return { kind: 'not-failed', what: 'event', status: outcome.state };
    }
    return { kind: 'missing' };
  }

  /** Replays each of `ids` (what a console page showed), in order; one log line for the lot. */
  async replayIds(ids: readonly string[], admin: string): Promise<ReplayCounts> {
    const counts = { replayed: 0, skipped: 0, more: false };
    for (const id of ids) {
      if ((await this.replay(id, admin)).kind === 'replayed') counts.replayed += 1;
      else counts.skipped += 1;
    }
    return counts;
  }

  /** Every dead letter of `kind` that failed at or after `sinceMs` (up to REPLAY_MANY_MAX per kind). */
  async replayMany(kind: 'message' | 'event' | 'all', sinceMs: number | undefined, admin: string): Promise<ReplayCounts> {
    const counts = { replayed: 0, skipped: 0, more: false };
    if (kind !== 'event') add(counts, await this.#replayMessages(sinceMs));
    if (kind !== 'message' && this.#d.events) add(counts, await this.#d.events.replayMany(sinceMs, REPLAY_MANY_MAX));
    this.#d.log.info({ kind, ...(sinceMs === undefined ? {} : { since: new Date(sinceMs).toISOString() }), ...counts, admin }, 'dead letters replayed');
    return counts;
  }

  /**
   * Failed messages that failed at or after `sinceMs`, oldest failure first, so a recipient's messages
   * go back on its queue in the order they were accepted. Each replay is its own Lua step, so two of
   * these racing replay each message once.
   */
  async #replayMessages(sinceMs: number | undefined): Promise<ReplayCounts> {
    const { ids, more } = await this.#d.store.deadLetterIds(sinceMs, REPLAY_MANY_MAX);
    const counts = { replayed: 0, skipped: 0, more };
    for (const id of ids.reverse()) {
      const result = await this.#d.outbound.replay(id, this.#d.now());
      if (result.kind === 'replayed') counts.replayed += 1;
      else counts.skipped += 1;
    }
    return counts;
  }
}

function add(into: ReplayCounts, c: ReplayCounts): void {
  into.replayed += c.replayed;
  into.skipped += c.skipped;
  into.more ||= c.more;
}
