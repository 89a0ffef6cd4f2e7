import type { Cluster, Redis } from 'ioredis';
import { normalizeRecipient } from '@cbot-relay/messages';
import type { Pricing } from '@cbot-relay/messages';
import type { MessageRecord } from './message-record.js';
import { pricingField, recordFromHash } from './message-record.js';
import type { ListPage, ListQuery } from './message-list.js';
import { listMessages } from './message-list.js';
import { LUA_CONSTANTS, wamidSpot } from './history.js';
import { DEFAULT_CHANNEL, PartitionKeys, RelayKeys } from './keys.js';
import { defineScript, replyArray, replyOneOf, replyString } from './lua/script.js';
import type { Script } from './lua/script.js';
import { MinuteCounters } from './minute-counters.js';
import { Partitions } from './partitions.js';
import type { UsageQuery, UsageRow } from './usage.js';
import { readUsage } from './usage.js';

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

const ORPHAN = {
  keys: ['state'],
  args: ['base', 'now', 'recTtl', 'ch', 'nowIso', 'to', 'wamid', 'opaque', 'seenAt', 'orphanTtl', 'wamidTtl'],
} as const;

const APPLY_STATUS = {
  keys: ['wamidKey', 'wpend', 'dlq'],
  args: ['base', 'status', 'now', 'errorJson', 'pendTtl', 'recTtl', 'cbotAt', 'park', 'pricing', 'ch', 'wamid'],
} as const;
const APPLY_ANSWERS = ['unknown', 'gone', 'applied', 'ignored'] as const;
/** `pricedFor`: the caller, when this status's pricing was the message's first (and so counted). */
type Applied = { answer: (typeof APPLY_ANSWERS)[number]; id?: string; pricedFor?: string };

/**
 * The message records as callbacks and readers see them: status callbacks, the record view, dead
 * letters. The outbound steps (accept, claim, settle) are `Outbound`'s.
 */
export class MessageStore {
  readonly #redis: Redis | Cluster;
  readonly #parts: Partitions;
  readonly #keys: PartitionKeys[];
  readonly #recordTtlS: number;
  readonly #wamidTtlS: number;
  readonly #applyStatus: Script<(typeof APPLY_STATUS.keys)[number], (typeof APPLY_STATUS.args)[number], Applied>;
  readonly #orphanTtlS: number;
  readonly #orphan: Script<(typeof ORPHAN.keys)[number], (typeof ORPHAN.args)[number], { reconciled?: Reconciled; id?: string }>;
  readonly #counts: MinuteCounters;

  constructor(opts: MessageStoreOptions) {
    this.#redis = opts.redis;
    this.#parts = new Partitions(opts.prefix, opts.partitions ?? 1);
    this.#recordTtlS = opts.recordTtlS;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    this.#counts = new MinuteCounters(opts.redis, new RelayKeys(opts.prefix));
    this.#keys = this.#parts.bases.map((b) => new PartitionKeys(b));
    this.#orphanTtlS = opts.orphanTtlS ?? 3_600;
    this.#orphan = defineScript(this.#redis, {
      name: 'orphan',
      ...ORPHAN,
      constants: LUA_CONSTANTS,
      parse: (reply) => {
        const [kind, id] = replyArray(reply, 'orphan').map((c) => replyString(c, 'orphan'));
        if (kind === 'reconciled_opaque') return { reconciled: 'opaque', id: id! };
        if (kind === 'reconciled_recipient') return { reconciled: 'recipient', id: id! };
        return {};
      },
    });
    this.#applyStatus = defineScript(this.#redis, {
      name: 'apply-status',
      ...APPLY_STATUS,
      constants: LUA_CONSTANTS,
      parse: (reply) => {
        const [answer, id, priced] = replyArray(reply, 'apply-status');
        const pricedFor = priced === undefined ? '' : replyString(priced, 'apply-status');
        return {
          answer: replyOneOf(answer, APPLY_ANSWERS, 'apply-status'),
          ...(id === undefined ? {} : { id: replyString(id, 'apply-status') }),
          ...(pricedFor === '' ? {} : { pricedFor }),
        };
      },
    });
  }

  #of(id: string): PartitionKeys {
    return this.#keys[this.#parts.ofId(id)]!;
  }
  recKey(id: string): string {
    return this.#of(id).record(id);
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    return recordFromHash(id, await this.#redis.hgetall(this.recKey(id)));
  }

  /** The message body as accepted (the caller's JSON, channel field taken out), while it is kept. */
  async body(id: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#of(id).body(id))) ?? undefined;
  }

  /**
   * The relay id a CBOT message id (wamid) maps to, looked up on each of `channels` in every partition:
   * the previous release's key, then the day buckets (lua/includes/wamid.lua's wamidId, newest first).
   */
  async byWamid(wamid: string, channels: readonly string[], nowMs = Date.now()): Promise<string | undefined> {
    const { slot, field } = wamidSpot(wamid);
    const today = Math.floor(nowMs / 86_400_000);
    const days: number[] = [];
    for (let d = today + 1; d >= today - Math.ceil(this.#wamidTtlS / 86_400) - 1; d--) days.push(d);
    const found = await Promise.all(
      this.#keys.flatMap((k) =>
        channels.map(async (ch) => {
          const c = k.channel(ch);
          const legacy = await this.#redis.get(c.wamid(wamid));
          if (legacy !== null) return legacy;
          const ids = await Promise.all(days.map((d) => this.#redis.hget(c.wamidBucket(d, slot), field)));
          return ids.find((id) => id !== null) ?? undefined;
        }),
      ),
    );
    return found.find((id) => id !== undefined);
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
   * `pricing` (from the status's `pricing`/`conversation`) goes on the record once and is counted in
   * the usage buckets then; `pricedFor` names the caller when this call counted it.
   *
   * A status nobody knows is also kept as an orphan of its recipient (`recipientHint`, or the record
   * that `orphan.opaque` — the status's biz_opaque_callback_data — names), first seen when the ingress
   * took the callback (`orphan.receivedAtMs`) or at CBOT's own time of the status, whichever is earlier:
   * if that recipient's message waits on an attempt whose answer was lost and the status identifies
   * it, the message is recorded sent (answer `reconciled`) instead of being sent again (docs/resilience.md).
   */
  async applyStatus(
    wamid: string,
    status: string,
    nowMs: number,
    errors?: unknown,
    cbotAtS?: number,
    channel: string = DEFAULT_CHANNEL,
    recipientHint?: string,
    pricing?: Pricing,
    orphan: { opaque?: string; receivedAtMs?: number } = {},
  ): Promise<{ relayId?: string; applied: boolean; pricedFor?: string; reconciled?: Reconciled }> {
    const known = await this.#applyKnown(wamid, status, nowMs, errors, cbotAtS, channel, recipientHint, pricing);
    if (known.relayId !== undefined) return known;
    // Nobody recorded the wamid: it may be the status of an attempt whose answer was lost. First seen:
    // when the ingress took it, or — earlier still, for a callback CBOT had to redeliver — CBOT's own
    // time of the status (whole seconds, so up to 999 ms later).
    const cbotAt = cbotAtS !== undefined && Number.isFinite(cbotAtS) && cbotAtS > 0 ? Math.floor(cbotAtS) : undefined;
    const received = orphan.receivedAtMs ?? nowMs;
    const seen = cbotAt === undefined ? received : Math.min(received, cbotAt * 1000 + 999);
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
    const keys = this.#keys[to !== '' ? this.#parts.ofRecipient(to) : this.#parts.ofId(opaque!)]!;
    return this.#orphan(
      { state: keys.channel(channel).recipient(to) },
      {
        base: keys.base,
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
    pricing: Pricing | undefined,
  ): Promise<{ relayId?: string; applied: boolean; pricedFor?: string }> {
    const cbotAt = cbotAtS !== undefined && Number.isFinite(cbotAtS) && cbotAtS > 0 ? Math.floor(cbotAtS) : '';
    const err = errors === undefined ? '' : JSON.stringify(errors);
    const priced = pricing === undefined ? '' : pricingField(pricing);
    const at = async (k: number, park: boolean) => {
      // CBOT message ids are per channel (number): channel default keeps the partition's own base.
      const keys = this.#keys[k]!;
      const ch = keys.channel(channel);
      const r = await this.#applyStatus(
        { wamidKey: ch.wamid(wamid), wpend: ch.parkedStatus(wamid), dlq: keys.deadLetters },
        { base: keys.base, status, now: nowMs, errorJson: err, pendTtl: this.#wamidTtlS, recTtl: this.#recordTtlS, cbotAt, park: park ? '1' : '0', pricing: priced, ch: channel, wamid },
      );
      if (r.answer === 'unknown') return undefined;
      return { relayId: r.id, applied: r.answer === 'applied', ...(r.pricedFor === undefined ? {} : { pricedFor: r.pricedFor }) };
    };
    const counted = (r: { relayId?: string; applied: boolean }) => {
      if (r.applied && status === 'failed') this.#counts.bump('failed', 1, nowMs);
      return r;
    };
    const n = this.#parts.count;
    if (n === 1) return counted((await at(0, true)) ?? { applied: false });
    const first = recipientHint === undefined ? 0 : this.#parts.ofRecipient(normalizeRecipient(recipientHint));
    const found = (await at(first, false)) ?? (await Promise.all(this.#others(first).map((k) => at(k, false)))).find((r) => r !== undefined);
    if (found) return counted(found);
    return counted((await Promise.all(Array.from({ length: n }, (_, k) => at(k, true)))).find((r) => r !== undefined) ?? { applied: false });
  }

  #others(k: number): number[] {
    return Array.from({ length: this.#parts.count }, (_, i) => i).filter((i) => i !== k);
  }

  /**
   * Messages newest first by acceptance time, filtered, one page (see message-list.ts). Reads the
   * narrowest index the query allows: the recipient's, else the tag's, else the caller's, else every message's.
   */
  async list(q: ListQuery): Promise<ListPage> {
    const rec = (id: string) => this.recKey(id);
    // A recipient's messages are all in its partition; a caller's are in every one.
    if (q.to !== undefined) {
      const index = this.#keys[this.#parts.ofRecipient(q.to)]!.recipientIndex(q.to);
      return listMessages(this.#redis, { indexes: [index], indexOf: () => [index], rec }, q);
    }
    if (q.tag !== undefined) {
      // A tag's index is per caller (ix:g:<caller>:<tag>); an admin's list merges every caller's.
      const tag = q.tag;
      const callersOf = async (k: PartitionKeys) => (q.caller !== undefined ? [q.caller] : await this.#redis.smembers(k.indexedCallers));
      const perPartition = await Promise.all(this.#keys.map(async (k) => ({ k, indexes: (await callersOf(k)).map((c) => k.tagIndex(c, tag)) })));
      const of = new Map(perPartition.map((p) => [p.k, p.indexes]));
      return listMessages(this.#redis, { indexes: perPartition.flatMap((p) => p.indexes), indexOf: (id) => of.get(this.#of(id)) ?? [], rec }, q);
    }
    if (q.caller !== undefined) {
      const caller = q.caller;
      return listMessages(this.#redis, { indexes: this.#keys.map((k) => k.callerIndex(caller)), indexOf: (id) => [this.#of(id).callerIndex(caller)], rec }, q);
    }
    // Everyone's: every caller's index in every partition, merged (an id in two indexes is listed once).
    const perPartition = await Promise.all(
      this.#keys.map(async (k) => ({ k, indexes: (await this.#redis.smembers(k.indexedCallers)).map((c) => k.callerIndex(c)) })),
    );
    const indexes = perPartition.flatMap((p) => p.indexes);
    const of = new Map(perPartition.map((p) => [p.k, p.indexes]));
    return listMessages(this.#redis, { indexes, indexOf: (id) => of.get(this.#of(id)) ?? [], rec }, q);
  }

  /** Priced messages per channel, caller, category and type over whole UTC days (see usage.ts). */
  async usage(q: UsageQuery): Promise<UsageRow[]> {
    return readUsage(this.#redis, this.#keys.map((k) => k.usagePrefix), q);
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
    const flats = await Promise.all(this.#keys.map((k) => this.#redis.zrevrangebyscore(k.deadLetters, max, min, 'WITHSCORES', 'LIMIT', 0, limit)));
    const all: { id: string; atMs: number }[] = [];
    for (const flat of flats) for (let i = 0; i + 1 < flat.length; i += 2) all.push({ id: flat[i]!, atMs: Number(flat[i + 1]) });
    return all.sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  /** Resends after a possibly lost CBOT answer, over all dispatchers since the start (kept in Redis). */
  async ambiguousResends(): Promise<number> {
    const counts = await Promise.all(this.#keys.map((k) => this.#redis.get(k.ambiguous)));
    return counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
  }

  /** How often this message was resent after a possibly lost answer. */
  async resends(id: string): Promise<number> {
    return Number((await this.#redis.hget(this.recKey(id), 'resends')) ?? 0);
  }
}
