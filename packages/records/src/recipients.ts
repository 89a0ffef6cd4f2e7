import type { Cluster, Redis } from 'ioredis';
import { PartitionKeys } from './keys.js';
import type { ChannelKeys } from './keys.js';
import { defineScript, replyInteger } from './lua/script.js';
import type { Script } from './lua/script.js';
import { Partitions } from './partitions.js';
import { LAST_INBOUND_TTL_S, WINDOW_MS, windowState } from './window.js';
import type { WindowState } from './window.js';

export interface RecipientsOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** Outbound partitions (resolvePartitions); default 1. */
  partitions?: number;
  /** How long `lastInboundAt` is kept after the inbound message's own time (LAST_INBOUND_TTL_S). */
  lastInboundTtlS?: number;
}

/** What `GET /v1/recipients/{to}` shows. */
export interface RecipientView {
  to: string;
  channel: string;
  lastInboundAt: string | null;
  window: WindowState;
  windowClosesAt: string | null;
  optedOut: boolean;
  optedOutAt: string | null;
}

export interface OptOutPage {
  items: { to: string; channel: string; optedOutAt: string }[];
  nextCursor: string | null;
}

/**
 * WhatsApp's rules per channel and recipient, as the fanout writes them from inbound callbacks and the
 * API reads them: the customer-service window's `lastInboundAt` and opt-outs. Every key sits in the
 * recipient's outbound partition under the channel's base (outbound-scripts.ts, WINDOW_LIB), so the
 * accept and claim scripts read them in their own step.
 */
export class Recipients {
  readonly #redis: Redis | Cluster;
  readonly #parts: Partitions;
  readonly #ttlS: number;
  readonly #inbound: Script<'w' | 'track', 'at' | 'now' | 'ttl', boolean>;
  readonly #opt: Script<'w' | 'idx', 'op' | 'at' | 'to' | 'ttl', boolean>;
  /** Channels whose tracking mark this process has set in every partition. */
  readonly #tracked = new Set<string>();

  constructor(opts: RecipientsOptions) {
    this.#redis = opts.redis;
    this.#parts = new Partitions(opts.prefix, opts.partitions ?? 1);
    this.#ttlS = opts.lastInboundTtlS ?? LAST_INBOUND_TTL_S;
    this.#inbound = defineScript(this.#redis, { name: 'recipient-inbound', keys: ['w', 'track'], args: ['at', 'now', 'ttl'], parse: (r) => replyInteger(r, 'recipient-inbound') === 1 });
    this.#opt = defineScript(this.#redis, { name: 'recipient-opt', keys: ['w', 'idx'], args: ['op', 'at', 'to', 'ttl'], parse: (r) => replyInteger(r, 'recipient-opt') === 1 });
  }

  /** The channel's keys in the recipient's partition. */
  #keys(channel: string, to: string): ChannelKeys {
    return new PartitionKeys(this.#parts.bases[this.#parts.ofRecipient(to)]!).channel(channel);
  }

  /** The channel's keys in every partition. */
  #everywhere(channel: string): ChannelKeys[] {
    return this.#parts.bases.map((base) => new PartitionKeys(base).channel(channel));
  }

  /** The key of the recipient's rules (exposed for tests that check its partition). */
  key(channel: string, to: string): string {
    return this.#keys(channel, to).recipientRules(to);
  }

  /**
   * An inbound message from `to` on `channel`, sent at `atS` (WhatsApp unix seconds, clamped to now
   * by the caller: inboundSeconds). True when it moved `lastInboundAt` forward.
   */
  async inbound(channel: string, to: string, atS: number, nowMs: number): Promise<boolean> {
    const k = this.#keys(channel, to);
    const moved = await this.#inbound({ w: k.recipientRules(to), track: k.rulesTracked }, { at: atS, now: nowMs, ttl: this.#ttlS });
    if (!this.#tracked.has(channel)) {
      // Every partition's claim reads its own mark: set it everywhere, once per process.
      await Promise.all(this.#everywhere(channel).map((k) => this.#redis.set(k.rulesTracked, String(nowMs), 'NX')));
      this.#tracked.add(channel);
    }
    return moved;
  }

  /** Sets `lastInboundAt` as given (undefined: forgets it), whatever it was: for operators and tests. */
  async setLastInbound(channel: string, to: string, atS: number | undefined): Promise<void> {
    const key = this.key(channel, to);
    if (atS === undefined) await this.#redis.hdel(key, 'in');
    else await this.#redis.multi().hset(key, 'in', String(atS)).expireat(key, atS + this.#ttlS).exec();
  }

  /** Sets when the relay started tracking the channel's inbound, in every partition: for operators and tests. */
  async setTrackedSince(channel: string, atMs: number): Promise<void> {
    await Promise.all(this.#everywhere(channel).map((k) => this.#redis.set(k.rulesTracked, String(atMs))));
    this.#tracked.add(channel);
  }

  /** Opts `to` out on `channel` as of `atMs`; true when it was not opted out already. */
  optOut(channel: string, to: string, atMs: number): Promise<boolean> {
    return this.#setOpt('out', channel, to, atMs);
  }

  /** Opts `to` back in on `channel` as of `atMs`; true when it was opted out. */
  optIn(channel: string, to: string, atMs: number): Promise<boolean> {
    return this.#setOpt('in', channel, to, atMs);
  }

  #setOpt(op: 'out' | 'in', channel: string, to: string, atMs: number): Promise<boolean> {
    const k = this.#keys(channel, to);
    return this.#opt({ w: k.recipientRules(to), idx: k.optOuts }, { op, at: Math.round(atMs), to, ttl: this.#ttlS });
  }

  async get(channel: string, to: string, nowMs: number): Promise<RecipientView> {
    const k = this.#keys(channel, to);
    const [[last, opt], tracked] = await Promise.all([this.#redis.hmget(k.recipientRules(to), 'in', 'opt'), this.#redis.get(k.rulesTracked)]);
    const lastS = last === null ? undefined : Number(last);
    const window = windowState(lastS, tracked === null ? undefined : Number(tracked), nowMs);
    return {
      to,
      channel,
      lastInboundAt: lastS === undefined ? null : new Date(lastS * 1000).toISOString(),
      window,
      windowClosesAt: lastS === undefined ? null : new Date(lastS * 1000 + WINDOW_MS).toISOString(),
      optedOut: opt !== null,
      optedOutAt: opt === null ? null : new Date(Number(opt)).toISOString(),
    };
  }

  /**
   * The channel's opted-out recipients in `to` order, `limit` per page; `cursor` is the last page's
   * `nextCursor`. Each partition keeps its own index; a page merges them.
   */
  async listOptOuts(channel: string, cursor: string | undefined, limit: number): Promise<OptOutPage> {
    const after = cursor === undefined ? undefined : decodeOptCursor(cursor);
    const min = after === undefined ? '-' : `(${after}`;
    const lists = await Promise.all(
      this.#everywhere(channel).map((k) => this.#redis.zrangebylex(k.optOuts, min, '+', 'LIMIT', 0, limit + 1)),
    );
    const all = lists.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = all.slice(0, limit);
    const ats = await Promise.all(page.map((to) => this.#redis.hget(this.key(channel, to), 'opt')));
    const items = page.flatMap((to, i) => {
      const at = ats[i];
      return at === null || at === undefined ? [] : [{ to, channel, optedOutAt: new Date(Number(at)).toISOString() }];
    });
    return { items, nextCursor: all.length > limit ? encodeOptCursor(page[page.length - 1]!) : null };
  }
}

/** Cursors are opaque to callers: the last recipient of the page, base64url. */
export function encodeOptCursor(to: string): string {
  return Buffer.from(`o1:${to}`, 'utf8').toString('base64url');
}

/** The recipient a cursor names, or undefined when it is not one of ours. */
export function decodeOptCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^o1:\d{1,15}$/.test(text) ? text.slice(3) : undefined;
}

