import type { Cluster, Redis } from 'ioredis';
import { normalizeRecipient } from '@cbot-relay/messages';
import { defineScript, luaCommand, replyArray, replyString } from '@cbot-relay/queues';
import type { Script } from '@cbot-relay/queues';
import type { MessageRecord } from './message-record.js';
import { recordFromHash } from './message-record.js';
import type { ListPage, ListQuery } from './message-list.js';
import { listMessages } from './message-list.js';
import { APPLY_STATUS } from './scripts.js';
import { DEFAULT_CHANNEL, channelKeyBase } from './outbound.js';
import { ORPHAN, ORPHAN_ARGS, ORPHAN_KEYS } from './outbound-scripts.js';
import { Partitions } from './partitions.js';

export interface MessageStoreOptions {
  redis: Redis | Cluster;
  prefix: string;
  recordTtlS: number;
  /** Outbound partitions (resolvePartitions); default 1. */
  partitions?: number;
  /** How long a CBOT message id maps back to the relay id: callbacks come for up to 7 days (Cloud). */
  wamidTtlS?: number;
  /**
   * How long a status for an unknown wamid is kept per recipient as an orphan (reconciliation); it must
   * outlast a lease plus RECONCILE_WINDOW_S. Default 3,600 s.
   */
  orphanTtlS?: number;
}

/** How a status identified a message whose attempt's answer was lost (docs/resilience.md). */
export type Reconciled = 'opaque' | 'recipient';

type Eval = (keys: string[], args: (string | number | Buffer)[]) => Promise<string[]>;

/**
 * The message records as callbacks and readers see them: status callbacks, the record view, dead
 * letters. The outbound steps (accept, claim, settle) are `Outbound`'s.
 */
export class MessageStore {
  readonly #redis: Redis | Cluster;
  readonly #parts: Partitions;
  readonly #recordTtlS: number;
  readonly #wamidTtlS: number;
  readonly #applyStatus: Eval;
  readonly #orphanTtlS: number;
  readonly #orphan: Script<(typeof ORPHAN_KEYS)[number], (typeof ORPHAN_ARGS)[number], { reconciled?: Reconciled; id?: string }>;

  constructor(opts: MessageStoreOptions) {
    this.#redis = opts.redis;
    this.#parts = new Partitions(opts.prefix, opts.partitions ?? 1);
    this.#recordTtlS = opts.recordTtlS;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    const run = luaCommand(this.#redis, APPLY_STATUS, 3);
    this.#applyStatus = async (k, a) => (await run(k, a)) as string[];
    this.#orphanTtlS = opts.orphanTtlS ?? 3_600;
    this.#orphan = defineScript(this.#redis, {
      keys: ORPHAN_KEYS,
      args: ORPHAN_ARGS,
      lua: ORPHAN,
      parse: (reply) => {
        const [kind, id] = replyArray(reply, 'orphan').map((c) => replyString(c, 'orphan'));
        if (kind === 'reconciled_opaque') return { reconciled: 'opaque', id: id! };
        if (kind === 'reconciled_recipient') return { reconciled: 'recipient', id: id! };
        return {};
      },
    });
  }

  #base(id: string): string {
    return this.#parts.bases[this.#parts.ofId(id)]!;
  }
  recKey(id: string): string {
    return `${this.#base(id)}:msg:${id}`;
  }
  // CBOT message ids are per channel (number): channel default keeps the partition's own base.
  #wamidKey(base: string, wamid: string, channel: string) {
    return `${channelKeyBase(base, channel)}:wamid:${wamid}`;
  }
  #wpendKey(base: string, wamid: string, channel: string) {
    return `${channelKeyBase(base, channel)}:wpend:${wamid}`;
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
   * record's history. A status for a wamid the dispatcher has not recorded yet (a callback can overtake
   * the settle) is parked and applied by the settle.
   *
   * With partitions the wamid's partition is not known: the recipient's (`recipientHint`, the
   * callback's `recipient_id`) is asked first, then every other; only when none knows the wamid is
   * the status parked — in every partition, each check-and-park atomic with that partition's settle,
   * so the one that sent it applies it whichever comes first (the others' parked copies expire).
   *
   * A status nobody knows is also kept as an orphan of its recipient (`recipientHint`, or the record
   * that `orphan.opaque` — the status's biz_opaque_callback_data — names), first seen when the ingress
   * took the callback (`orphan.receivedAtMs`) or at CBOT's own time of the status, whichever is earlier: if that recipient's message waits
   * on an attempt whose answer was lost and the status identifies it, the message is recorded sent
   * (answer `reconciled`) instead of being sent again (docs/resilience.md).
   */
  async applyStatus(
    wamid: string,
    status: string,
    nowMs: number,
    errors?: unknown,
    cbotAtS?: number,
    channel: string = DEFAULT_CHANNEL,
    recipientHint?: string,
    orphan: { opaque?: string; receivedAtMs?: number } = {},
  ): Promise<{ relayId?: string; applied: boolean; reconciled?: Reconciled }> {
    const known = await this.#applyKnown(wamid, status, nowMs, errors, cbotAtS, channel, recipientHint);
    if (known.relayId !== undefined) return known;
    const cbotAt = cbotAtS !== undefined && Number.isFinite(cbotAtS) && cbotAtS > 0 ? Math.floor(cbotAtS) : undefined;
    // Nobody recorded the wamid: it may be the status of an attempt whose answer was lost.
    // First seen: when the ingress took it, or — earlier still, for a callback CBOT had to redeliver —
    // CBOT's own time of the status (whole seconds, so up to 999 ms later).
    const received = orphan.receivedAtMs ?? nowMs;
    const seen = typeof cbotAt === 'number' ? Math.min(received, cbotAt * 1000 + 999) : received;
    const kept = await this.#keepOrphan(wamid, nowMs, channel, recipientHint, orphan.opaque, seen);
    return kept.id === undefined ? known : { relayId: kept.id, applied: true, reconciled: kept.reconciled! };
  }

  /**
   * Keeps a status for an unknown wamid as an orphan of its recipient, in the recipient's partition;
   * a message of that recipient waiting on an unknown outcome that it identifies is recorded sent.
   */
  async #keepOrphan(wamid: string, nowMs: number, channel: string, recipientHint: string | undefined, opaque: string | undefined, seenAtMs: number) {
    const to = recipientHint === undefined ? '' : normalizeRecipient(recipientHint);
    if (to === '' && (opaque === undefined || opaque === '')) return {};
    const k = to !== '' ? this.#parts.ofRecipient(to) : this.#parts.ofId(opaque!);
    const base = this.#parts.bases[k]!;
    return this.#orphan(
      { state: `${channelKeyBase(base, channel)}:o:r:${to}` },
      {
        base,
        now: nowMs,
        recTtl: this.#recordTtlS,
        ch: channel,
        nowIso: new Date(nowMs).toISOString(),
        to,
        wamid,
        opaque: opaque ?? '',
        seenAt: Math.min(seenAtMs, nowMs),
        orphanTtl: this.#orphanTtlS,
        wamidTtl: this.#wamidTtlS,
      },
    );
  }

  async #applyKnown(
    wamid: string,
    status: string,
    nowMs: number,
    errors: unknown,
    cbotAtS: number | undefined,
    channel: string,
    recipientHint: string | undefined,
  ): Promise<{ relayId?: string; applied: boolean }> {
    const cbotAt = cbotAtS !== undefined && Number.isFinite(cbotAtS) && cbotAtS > 0 ? Math.floor(cbotAtS) : '';
    const err = errors === undefined ? '' : JSON.stringify(errors);
    const at = async (k: number, park: boolean) => {
      const base = this.#parts.bases[k]!;
      const r = await this.#applyStatus(
        [this.#wamidKey(base, wamid, channel), this.#wpendKey(base, wamid, channel), `${base}:dlq`],
        [status, nowMs, err, this.#wamidTtlS, `${base}:msg:`, this.#recordTtlS, `${base}:body:`, cbotAt, park ? '1' : '0'],
      );
      return r[0] === 'unknown' ? undefined : { relayId: r[1], applied: r[0] === 'applied' };
    };
    const n = this.#parts.count;
    if (n === 1) return (await at(0, true)) ?? { applied: false };
    const first = recipientHint === undefined ? 0 : this.#parts.ofRecipient(normalizeRecipient(recipientHint));
    const found = (await at(first, false)) ?? (await Promise.all(this.#others(first).map((k) => at(k, false)))).find((r) => r !== undefined);
    if (found) return found;
    return (await Promise.all(Array.from({ length: n }, (_, k) => at(k, true)))).find((r) => r !== undefined) ?? { applied: false };
  }

  #others(k: number): number[] {
    return Array.from({ length: this.#parts.count }, (_, i) => i).filter((i) => i !== k);
  }

  /**
   * Messages newest first by acceptance time, filtered, one page (see message-list.ts). Reads the
   * narrowest index the query allows: the recipient's, else the caller's, else every message's.
   */
  async list(q: ListQuery): Promise<ListPage> {
    const rec = (id: string) => this.recKey(id);
    // A recipient's messages are all in its partition; a caller's are in every one.
    if (q.to !== undefined) {
      const index = `${this.#parts.bases[this.#parts.ofRecipient(q.to)]!}:ix:t:${q.to}`;
      return listMessages(this.#redis, { indexes: [index], indexOf: () => [index], rec }, q);
    }
    if (q.caller !== undefined) {
      const name = `ix:c:${q.caller}`;
      return listMessages(this.#redis, { indexes: this.#parts.bases.map((b) => `${b}:${name}`), indexOf: (id) => [`${this.#base(id)}:${name}`], rec }, q);
    }
    // Everyone's: every caller's index in every partition, merged. Redis written by an earlier
    // release also has one index of every message (until it expires with its retention): read with
    // the others, it lists callers that have sent nothing since (an id in two indexes is listed once).
    const perPartition = await Promise.all(
      this.#parts.bases.map(async (b) => {
        const [callers, legacy] = await Promise.all([this.#redis.smembers(`${b}:ix:callers`), this.#redis.exists(`${b}:ix:all`)]);
        return { b, indexes: [...callers.map((c) => `${b}:ix:c:${c}`), ...(legacy === 1 ? [`${b}:ix:all`] : [])] };
      }),
    );
    const indexes = perPartition.flatMap((p) => p.indexes);
    const of = new Map(perPartition.map((p) => [p.b, p.indexes]));
    return listMessages(this.#redis, { indexes, indexOf: (id) => of.get(this.#base(id)) ?? [], rec }, q);
  }

  /** Newest first. `before` is the score (ms) to page from. */
  async deadLetters(limit: number, beforeMs?: number): Promise<{ records: MessageRecord[]; next?: number }> {
    const max = beforeMs === undefined ? '+inf' : `(${beforeMs}`;
    const page = await this.#deadLetterPage(max, '-inf', limit);
    const records: MessageRecord[] = [];
    for (const { id } of page) {
      const rec = await this.get(id);
      if (rec) records.push(rec);
    }
    return { records, next: page.length === limit ? page[page.length - 1]!.atMs : undefined };
  }

  /**
   * Ids of failed messages, newest first, that failed at or after `sinceMs` (all when undefined), at
   * most `max`; `more` when others remain. A failed record's dead-letter score is its failure time.
   */
  async deadLetterIds(sinceMs: number | undefined, max: number): Promise<{ ids: string[]; more: boolean }> {
    const page = await this.#deadLetterPage('+inf', sinceMs === undefined ? '-inf' : String(sinceMs), max + 1);
    return { ids: page.slice(0, max).map((e) => e.id), more: page.length > max };
  }

  /** The newest `limit` dead letters scored within [min, max], over every partition. */
  async #deadLetterPage(max: string, min: string, limit: number): Promise<{ id: string; atMs: number }[]> {
    const flats = await Promise.all(this.#parts.bases.map((b) => this.#redis.zrevrangebyscore(`${b}:dlq`, max, min, 'WITHSCORES', 'LIMIT', 0, limit)));
    const all: { id: string; atMs: number }[] = [];
    for (const flat of flats) for (let i = 0; i + 1 < flat.length; i += 2) all.push({ id: flat[i]!, atMs: Number(flat[i + 1]) });
    return all.sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  /** Resends after a possibly lost CBOT answer, over all dispatchers since the start (kept in Redis). */
  async ambiguousResends(): Promise<number> {
    const counts = await Promise.all(this.#parts.bases.map((b) => this.#redis.get(`${b}:ambiguous`)));
    return counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
  }

  /** How often this message was resent after a possibly lost answer. */
  async resends(id: string): Promise<number> {
    return Number((await this.#redis.hget(this.recKey(id), 'resends')) ?? 0);
  }
}
