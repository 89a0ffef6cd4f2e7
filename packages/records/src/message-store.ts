import type { Cluster, Redis } from 'ioredis';
import { luaCommand } from '@cbot-relay/queues';
import type { MessageRecord } from './message-record.js';
import { recordFromHash } from './message-record.js';
import type { ListPage, ListQuery } from './message-list.js';
import { listMessages } from './message-list.js';
import { APPLY_STATUS } from './scripts.js';
import { DEFAULT_CHANNEL, channelKeyBase } from './outbound.js';

export interface MessageStoreOptions {
  redis: Redis | Cluster;
  prefix: string;
  recordTtlS: number;
  /** How long a CBOT message id maps back to the relay id: callbacks come for up to 7 days (Cloud). */
  wamidTtlS?: number;
}

type Eval = (keys: string[], args: (string | number | Buffer)[]) => Promise<string[]>;

/**
 * The message records as callbacks and readers see them: status callbacks, the record view, dead
 * letters. The outbound steps (accept, claim, settle) are `Outbound`'s.
 */
export class MessageStore {
  readonly #redis: Redis | Cluster;
  readonly #p: string;
  readonly #recordTtlS: number;
  readonly #wamidTtlS: number;
  readonly #applyStatus: Eval;

  constructor(opts: MessageStoreOptions) {
    this.#redis = opts.redis;
    this.#p = opts.prefix;
    this.#recordTtlS = opts.recordTtlS;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    const run = luaCommand(this.#redis, APPLY_STATUS, 3);
    this.#applyStatus = async (k, a) => (await run(k, a)) as string[];
  }

  recKey(id: string): string {
    return `${this.#p}:msg:${id}`;
  }
  get #dlqKey() {
    return `${this.#p}:dlq`;
  }
  // CBOT message ids are per channel (number): channel default keeps the relay's own prefix.
  #wamidKey(wamid: string, channel: string) {
    return `${channelKeyBase(this.#p, channel)}:wamid:${wamid}`;
  }
  #wpendKey(wamid: string, channel: string) {
    return `${channelKeyBase(this.#p, channel)}:wpend:${wamid}`;
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    return recordFromHash(id, await this.#redis.hgetall(this.recKey(id)));
  }

  async status(id: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.recKey(id), 'status')) ?? undefined;
  }

  /**
   * Applies a CBOT status callback that came in on `channel`; returns the relay id when the wamid is
   * one of that channel's. `cbotAtS` is the callback's own `timestamp` (unix seconds), kept in the
   * record's history.
   */
  async applyStatus(
    wamid: string,
    status: string,
    nowMs: number,
    errors?: unknown,
    cbotAtS?: number,
    channel: string = DEFAULT_CHANNEL,
  ): Promise<{ relayId?: string; applied: boolean }> {
    const cbotAt = cbotAtS !== undefined && Number.isFinite(cbotAtS) && cbotAtS > 0 ? Math.floor(cbotAtS) : '';
    const r = await this.#applyStatus(
      [this.#wamidKey(wamid, channel), this.#wpendKey(wamid, channel), this.#dlqKey],
      [status, nowMs, errors === undefined ? '' : JSON.stringify(errors), this.#wamidTtlS, `${this.#p}:msg:`, this.#recordTtlS, `${this.#p}:body:`, cbotAt],
    );
    return { relayId: r[1], applied: r[0] === 'applied' };
  }

  /**
   * Messages newest first by acceptance time, filtered, one page (see message-list.ts). Reads the
   * narrowest index the query allows: the recipient's, else the caller's, else every message's.
   */
  list(q: ListQuery): Promise<ListPage> {
    const index =
      q.to !== undefined ? `${this.#p}:ix:t:${q.to}` : q.caller !== undefined ? `${this.#p}:ix:c:${q.caller}` : `${this.#p}:ix:all`;
    return listMessages(this.#redis, { index, rec: (id) => this.recKey(id) }, q);
  }

  /** Newest first. `before` is the score (ms) to page from. */
  async deadLetters(limit: number, beforeMs?: number): Promise<{ records: MessageRecord[]; next?: number }> {
    const max = beforeMs === undefined ? '+inf' : `(${beforeMs}`;
    const flat = await this.#redis.zrevrangebyscore(this.#dlqKey, max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const records: MessageRecord[] = [];
    let last: number | undefined;
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      last = Number(flat[i + 1]);
      const rec = await this.get(id);
      if (rec) records.push(rec);
    }
    return { records, next: flat.length / 2 === limit ? last : undefined };
  }

  /**
   * Ids of failed messages, newest first, that failed at or after `sinceMs` (all when undefined), at
   * most `max`; `more` when others remain. A failed record's dead-letter score is its failure time.
   */
  async deadLetterIds(sinceMs: number | undefined, max: number): Promise<{ ids: string[]; more: boolean }> {
    const min = sinceMs === undefined ? '-inf' : String(sinceMs);
    const ids = await this.#redis.zrevrangebyscore(this.#dlqKey, '+inf', min, 'LIMIT', 0, max + 1);
    return { ids: ids.slice(0, max), more: ids.length > max };
  }

  /** Resends after a possibly lost CBOT answer, over all dispatchers since the start (kept in Redis). */
  async ambiguousResends(): Promise<number> {
    return Number((await this.#redis.get(`${this.#p}:ambiguous`)) ?? 0);
  }

  /** How often this message was resent after a possibly lost answer. */
  async resends(id: string): Promise<number> {
    return Number((await this.#redis.hget(this.recKey(id), 'resends')) ?? 0);
  }
}
