import type { Cluster, Redis } from 'ioredis';
import { Coalescer, MAX_BATCH_CHARS } from '@cbot-relay/queues';
import { DEFAULT_CHANNEL, PartitionKeys, RelayKeys } from './keys.js';
import { LUA_CONSTANTS } from './history.js';
import { defineBatchScript } from './lua/batch.js';
import type { BatchScript } from './lua/batch.js';
import { checkHeader, loadLua } from './lua/loader.js';
import { defineScript, luaCommand, namedLocals, replyArray, replyInteger, replyOneOf, replyString } from './lua/script.js';
import type { Script, Value } from './lua/script.js';
import type { Attempt } from './message-record.js';
import { MinuteCounters } from './minute-counters.js';
import { Partitions } from './partitions.js';
import { POLICY_CODE, WINDOW_OF_CODE } from './window.js';
import type { WindowPolicy, WindowState } from './window.js';
import { PRIORITY_NAME, attemptField } from './message-record.js';
import { parseGate } from './channel-gate.js';
import type { ChannelGateState, GateChange } from './channel-gate.js';
import { PartitionReceipts, parseClaimReceipts } from './outbound-receipts.js';
import type { DroppedReceipt, ReceiptAcceptResult, ReceiptInput, ReceiptLease, ReceiptOutcome, ReceiptSettled } from './outbound-receipts.js';

export const PRIORITIES = ['high', 'normal', 'bulk'] as const;

export type Priority = (typeof PRIORITIES)[number];
const PRIORITY_CODE: Record<Priority, string> = { high: 'h', normal: 'n', bulk: 'b' };

export interface OutboundOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** How many partitions the outbound side is split into (resolvePartitions); default 1: the prefix itself. */
  partitions?: number;
  recordTtlS: number;
  /** The contract's Idempotency-Key window. */
  idempotencyTtlS?: number;
  /** How long a CBOT message id maps back to the relay id: callbacks come for up to 7 days (Cloud). */
  wamidTtlS?: number;
  /** Open messages above which an accept is refused (exact: checked in the same step). */
  backlogMax?: number;
  /** Body bytes of open messages above which an accept is refused; 0 = no byte bound. */
  backlogMaxBytes?: number;
  /** Most accepts sent to Redis as one script call. */
  maxAcceptBatch?: number;
  /** How long a read receipt's wamid is remembered: a second one within it sends nothing (default 24 h). */
  receiptTtlS?: number;
}

export interface AcceptInput {
  id: string;
  /** The recipient as a key (normalizeRecipient). */
  to: string;
  type: string;
  caller: string;
  priority: Priority;
  /** The CBOT channel that sends it (default `default`). */
  channel?: string;
  nowMs: number;
  body: string;
  expiresAtMs?: number;
  /** X-Relay-Send-At: a time after `nowMs` makes the message `scheduled` until then. */
  sendAtMs?: number;
  /** X-Relay-Tag: listed and canceled by it. */
  tag?: string;
  idempotency?: { key: string; fingerprint: string };
  /** The accepting request's W3C trace context (tracing on): the send joins that trace. */
  traceparent?: string;
  /** The channel's WINDOW_POLICY (default `enforce`). */
  windowPolicy?: WindowPolicy;
  /** The body carries a `fallback` template, sent instead where the window refuses the message. */
  hasFallback?: boolean;
}

export type AcceptResult =
  | { kind: 'created'; id: string; window: WindowState }
  | { kind: 'duplicate'; id: string; window: WindowState }
  | { kind: 'conflict'; id?: string }
  | { kind: 'full'; bound: 'count' | 'bytes' }
  /** A free-form message to a closed window under `enforce`, with no fallback: nothing was written. */
  | { kind: 'window'; lastInboundAtS: number | undefined }
  | { kind: 'opted-out'; optedOutAtMs: number };

/** A recipient leased to this worker for its head message. */
export interface Lease {
  to: string;
  /** Fencing token: only the current holder's settle or retry moves the queue. */
  token: string;
  /** The queue entry (priority + relay id). */
  entry: string;
  id: string;
  body: string;
  /** An earlier attempt was stamped in flight and never recorded its end: CBOT may have it already. */
  ambiguous: boolean;
  failures: number;
  acceptedAtMs: number;
  caller: string;
  priority: Priority;
  channel: string;
  /** The outbound partition the recipient belongs to. */
  partition: number;
  /** The body's `fallback` template: none, there (`has`: send the message itself), or to be sent instead (`use`). */
  fallback: 'none' | 'has' | 'use';
}

export interface RetryOptions {
  untilMs: number;
  countsAsFailure: boolean;
  keepInflight: boolean;
  maxAttempts: number;
  error: unknown;
  /** 131056: hold the recipient for its own escalating wait (6 s doubling to 5 min) instead of `untilMs`. */
  pairRateLimit?: boolean;
  /** CBOT's Retry-After: with `pairRateLimit`, it replaces the escalating wait. */
  retryAfterMs?: number;
  /** CBOT refused the free-form message for its window (131047/470): the next attempt sends the fallback template. */
  fallback?: boolean;
}

export interface RetryResult {
  kind: 'held' | 'failed' | 'stale';
  failures: number;
  /** When the recipient is held until (epoch ms), for a hold. */
  untilMs?: number;
}

export type ClaimState = 'more' | 'rate' | 'paused' | 'idle';

export interface Claim {
  leases: Lease[];
  /** Head messages that ended without a send: expired, too old, body gone, record missing. */
  ended: { reason: 'expired' | 'max_age' | 'no_body' | 'missing' | 'opted_out' | 'window' | 'reconciled_opaque' | 'reconciled_recipient'; id: string }[];
  state: ClaimState;
  /** For `rate`/`paused`: when to try again; for `idle`: when the next hold or lease falls due (-1: none). */
  waitMs: number;
  /** Read receipts leased before any message (each spent a rate token). */
  receipts: ReceiptLease[];
  /** Read receipts dropped unsent: their window closed, or older than the maximum age. */
  droppedReceipts: DroppedReceipt[];
}

export interface ClaimPolicy {
  leaseMs: number;
  maxAgeMs: number;
  ratePerSecond: number;
  /** The channel's WINDOW_POLICY (default `enforce`): under `enforce` a free-form head whose window closed is not sent. */
  windowPolicy?: WindowPolicy;
  /**
   * RECONCILE_WINDOW_S in ms (default 30 s): how long a message whose last attempt's outcome is unknown
   * waits for a status that identifies it before it is sent again (0: at once).
   */
  reconcileMs?: number;
  /**
   * Every CBOT callback the ingress took before this time (ms) has been applied by a fanout (the
   * inbound queue's oldest open job): a message is not resent after its window while callbacks from
   * within the window may still identify it. Unset: no such check.
   */
  callbacksAppliedUpToMs?: number;
}

/** What a cancel found: canceled now, no such message (or another caller's), or a status past cancelling. */
export type CancelResult = { kind: 'canceled' } | { kind: 'missing' } | { kind: 'not-cancelable'; status: string };

/** Index entries one cancel-by-tag script call walks (each call is atomic; the claims run between them). */
export const CANCEL_SLICE = 1000;

/** RECONCILE_WINDOW_S's default, in ms. */
export const DEFAULT_RECONCILE_MS = 30_000;

export type ReplayResult =
  | { kind: 'replayed'; to: string }
  | { kind: 'missing' }
  | { kind: 'not-failed'; status: string }
  | { kind: 'no-body' };

const COMMON = ['base', 'now', 'recTtl'] as const;
const LEASE_KEYS = ['rec', 'state'] as const;
type Common = (typeof COMMON)[number];
type LeaseKeys = (typeof LEASE_KEYS)[number];
const ACCEPT = {
  keys: ['rec', 'idem', 'bodyKey'],
  args: ['id', 'to', 'mtype', 'caller', 'p', 'expiresAt', 'fingerprint', 'body', 'tp', 'ch', 'wpol', 'fb', 'dueAt', 'tag'],
  shared: [...COMMON, 'idemTtl', 'backlogMax', 'backlogMaxBytes'],
} as const;
const CLAIM = {
  keys: ['tat', 'pause', 'fence', 'weights', 'ambiguous', 'idle'],
  args: [...COMMON, 'ch', 'nowIso', 'n', 'leaseMs', 'maxAgeMs', 'intervalMs', 'toleranceMs', 'wpol', 'reconcileMs', 'wamidTtl', 'appliedUpTo'],
} as const;
const RENEW = { keys: ['leases', 'state'], args: ['to', 'tok', 'untilMs'] } as const;
const SETTLE_ARGS = [...COMMON, 'ch', 'to', 'tok', 'entry', 'outcome', 'attemptJson', 'wamid', 'errorJson', 'wamidTtl'] as const;
const RETRY_ARGS = [...COMMON, 'ch', 'to', 'tok', 'entry', 'attemptJson', 'counts', 'keepInflight', 'untilMs', 'maxAttempts', 'errorJson', 'fallback', 'pair', 'retryAfterMs'] as const;
const FALLBACK_REQUEUE_ARGS = [...COMMON, 'id', 'wamidTtl'] as const;
const PAIR_HOLD_ARGS = [...COMMON, 'ch', 'to'] as const;
const GATE = {
  keys: ['gate', 'esc', 'seq'],
  args: ['action', 'reason', 'code', 'ms', 'now', 'qualityMs', 'value', 'wake'],
} as const;
const RELEASE_ARGS = [...COMMON, 'ch', 'to', 'tok', 'entry', 'keepInflight'] as const;
const REPLAY_ARGS = [...COMMON, 'id', 'attemptJson'] as const;
const CANCEL_ARGS = [...COMMON, 'id', 'who'] as const;
const CANCEL_TAG_ARGS = [...COMMON, 'afterScore', 'afterId', 'limit'] as const;
const RETRY_KINDS = ['held', 'failed', 'stale'] as const;
const ACCEPT_KINDS = ['created', 'duplicate', 'conflict', 'full', 'window', 'optout'] as const;

/**
 * One partition of the outbound side (all of it when there is one): accepting a message onto its
 * recipient's queue, claiming recipients fairly for sending, and settling each attempt — every step
 * one Lua script (lua/*.lua) over keys the relay owns (keys.ts), all under the partition's base.
 */
class OutboundPartition {
  readonly index: number;
  readonly keys: PartitionKeys;
  readonly #redis: Redis | Cluster;
  readonly #p: string;
  readonly #recordTtlS: number;
  readonly #idemTtlS: number;
  readonly #wamidTtlS: number;
  readonly #backlogMax: number;
  readonly #backlogMaxBytes: number;
  readonly #acceptBatch: BatchScript<(typeof ACCEPT.keys)[number], (typeof ACCEPT.args)[number], (typeof ACCEPT.shared)[number], AcceptResult>;
  readonly #accepts: Coalescer<AcceptInput, AcceptResult>;
  readonly #claim: Script<(typeof CLAIM.keys)[number], (typeof CLAIM.args)[number], unknown>;
  readonly #settle: Script<LeaseKeys, (typeof SETTLE_ARGS)[number], { recorded: string; advanced: boolean }>;
  readonly #retry: Script<LeaseKeys, (typeof RETRY_ARGS)[number], RetryResult>;
  readonly #pairHold: Script<'state', (typeof PAIR_HOLD_ARGS)[number], { held: boolean; untilMs: number }>;
  readonly #gate: Script<(typeof GATE.keys)[number], (typeof GATE.args)[number], { changed: boolean; value: string; pttlMs: number }>;
  readonly #pause: Script<'pause', 'ms', number>;
  readonly #release: Script<LeaseKeys, (typeof RELEASE_ARGS)[number], boolean>;
  readonly #replay: Script<'rec', (typeof REPLAY_ARGS)[number], ReplayResult>;
  readonly #fallbackRequeue: Script<'rec', (typeof FALLBACK_REQUEUE_ARGS)[number], boolean>;
  readonly #cancel: Script<'rec', (typeof CANCEL_ARGS)[number], CancelResult>;
  readonly #cancelTag: Script<'index', (typeof CANCEL_TAG_ARGS)[number], { canceled: number; lastScore: string; lastId: string; done: boolean }>;
  readonly #renew: (keys: string[], args: Value[]) => Promise<unknown>;
  readonly receipts: PartitionReceipts;

  constructor(opts: OutboundOptions & { index: number }) {
    this.index = opts.index;
    this.#redis = opts.redis;
    this.#p = opts.prefix;
    this.keys = new PartitionKeys(opts.prefix);
    this.#recordTtlS = opts.recordTtlS;
    this.#idemTtlS = opts.idempotencyTtlS ?? 86_400;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    this.#backlogMax = opts.backlogMax ?? Number.MAX_SAFE_INTEGER;
    this.#backlogMaxBytes = opts.backlogMaxBytes ?? 0;
    const redis = this.#redis;
    const constants = LUA_CONSTANTS;
    this.#acceptBatch = defineBatchScript(redis, { name: 'accept', ...ACCEPT, constants, parse: parseAccept });
    this.#accepts = new Coalescer((items) => this.#acceptRows(items), {
      maxBatch: opts.maxAcceptBatch ?? 100,
      maxBatchWeight: MAX_BATCH_CHARS,
      weigh: (input) => input.body.length,
    });
    this.#claim = defineScript(redis, { name: 'claim', ...CLAIM, constants, parse: (reply) => reply });
    this.#settle = defineScript(redis, {
      name: 'settle',
      keys: LEASE_KEYS,
      args: SETTLE_ARGS,
      constants,
      parse: (reply) => {
        const [recorded, advanced] = replyArray(reply, 'settle');
        return { recorded: replyString(recorded, 'settle'), advanced: Number(advanced) === 1 };
      },
    });
    this.#retry = defineScript(redis, {
      name: 'retry',
      keys: LEASE_KEYS,
      args: RETRY_ARGS,
      constants,
      parse: (reply) => {
        const [kind, failures, untilMs] = replyArray(reply, 'retry');
        return { kind: replyOneOf(kind, RETRY_KINDS, 'retry'), failures: Number(failures), ...(untilMs === undefined ? {} : { untilMs: Number(untilMs) }) };
      },
    });
    this.#pairHold = defineScript(redis, {
      name: 'pair-hold',
      keys: ['state'],
      args: PAIR_HOLD_ARGS,
      constants,
      parse: (reply) => {
        const [held, untilMs] = replyArray(reply, 'pair-hold');
        return { held: Number(held) === 1, untilMs: Number(untilMs) };
      },
    });
    this.#gate = defineScript(redis, {
      name: 'gate',
      ...GATE,
      constants,
      parse: (reply) => {
        const [changed, value, pttl] = replyArray(reply, 'gate');
        return { changed: Number(changed) === 1, value: replyString(value, 'gate'), pttlMs: Number(pttl) };
      },
    });
    this.#pause = defineScript(redis, { name: 'pause', keys: ['pause'], args: ['ms'], parse: (reply) => replyInteger(reply, 'pause') });
    this.#release = defineScript(redis, {
      name: 'release',
      keys: LEASE_KEYS,
      args: RELEASE_ARGS,
      constants,
      parse: (reply) => Number(replyArray(reply, 'release')[0]) === 1,
    });
    this.#replay = defineScript(redis, { name: 'replay', keys: ['rec'], args: REPLAY_ARGS, constants, parse: parseReplay });
    this.#fallbackRequeue = defineScript(redis, {
      name: 'fallback-requeue',
      keys: ['rec'],
      args: FALLBACK_REQUEUE_ARGS,
      constants,
      parse: (reply) => replyString(replyArray(reply, 'fallback-requeue')[0], 'fallback-requeue') === 'ok',
    });
    this.#cancel = defineScript(redis, { name: 'cancel', keys: ['rec'], args: CANCEL_ARGS, constants, parse: parseCancel });
    this.#cancelTag = defineScript(redis, {
      name: 'cancel-tag',
      keys: ['index'],
      args: CANCEL_TAG_ARGS,
      constants,
      parse: (reply) => {
        const [canceled, lastScore, lastId, done] = replyArray(reply, 'cancel-tag').map((c) => replyString(c, 'cancel-tag'));
        return { canceled: Number(canceled), lastScore: lastScore!, lastId: lastId!, done: done === '1' };
      },
    });
    // Not defineScript: the flags line (Redis runs an allow-oom script at maxmemory) must come first.
    const renew = loadLua('renew');
    checkHeader('renew', 'KEYS', RENEW.keys, renew.header.keys);
    checkHeader('renew', 'ARGV', RENEW.args, renew.header.args);
    this.#renew = luaCommand(redis, 'renew', `#!lua flags=allow-oom\n${namedLocals(RENEW.keys, RENEW.args)}\n${renew.includes}\n${renew.body}`, 2);
    // Receipts waiting per channel are bounded like the backlog (they hold no body: a few dozen bytes each).
    this.receipts = new PartitionReceipts(redis, this.keys, { ttlS: opts.receiptTtlS ?? 86_400, max: this.#backlogMax });
  }

  /** The channel an accept publishes on when a claim found nothing since (dispatchers subscribe). */
  get wakeChannel(): string {
    return this.keys.wake;
  }

  /**
   * Makes a message durable and queues it behind its recipient's earlier ones, atomically with the
   * Idempotency-Key and the backlog bounds. Concurrent calls are coalesced: those made while a batch
   * is in Redis go together in the next script call, each still its own atomic accept.
   */
  accept(input: AcceptInput): Promise<AcceptResult> {
    return this.#accepts.submit(input);
  }

  #acceptRows(items: AcceptInput[]): Promise<(AcceptResult | Error)[]> {
    // Rows share the clock of the batch's first request: they were all accepted within one round trip.
    const now = items[0]!.nowMs;
    return this.#acceptBatch(
      items.map((input) => ({
        keys: { rec: this.keys.record(input.id), idem: this.keys.idempotency(input.caller, input.idempotency?.key), bodyKey: this.keys.body(input.id) },
        args: {
          id: input.id,
          to: input.to,
          mtype: input.type,
          caller: input.caller,
          p: PRIORITY_CODE[input.priority],
          expiresAt: input.expiresAtMs ?? '',
          fingerprint: input.idempotency?.fingerprint ?? '',
          body: input.body,
          tp: input.traceparent ?? '',
          ch: input.channel ?? DEFAULT_CHANNEL,
          wpol: POLICY_CODE[input.windowPolicy ?? 'enforce'],
          fb: input.hasFallback ? '1' : '',
          dueAt: input.sendAtMs ?? '',
          tag: input.tag ?? '',
        },
      })),
      { ...this.#common(now), idemTtl: this.#idemTtlS, backlogMax: this.#backlogMax, backlogMaxBytes: this.#backlogMaxBytes },
    );
  }

  /** The W3C `traceparent` the message was accepted under, when tracing was on then. */
  async traceparent(id: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.keys.record(id), 'tp')) ?? undefined;
  }

  /** Claims up to `n` recipients of one channel (lua/claim.lua), within that channel's rate and pause. */
  claim(n: number, nowMs: number, policy: ClaimPolicy, channel: string = DEFAULT_CHANNEL): Promise<Claim> {
    const ch = this.keys.channel(channel);
    const intervalMs = 1000 / policy.ratePerSecond;
    // Bursts of up to a tenth of a second's worth pass at once.
    const burst = Math.max(1, Math.floor(policy.ratePerSecond / 10));
    return this.#claim(
      { tat: ch.gateTat, pause: ch.gatePause, fence: this.keys.fence, weights: this.keys.weights, ambiguous: this.keys.ambiguous, idle: this.keys.idle },
      {
        ...this.#common(nowMs),
        ch: channel,
        nowIso: new Date(nowMs).toISOString(),
        n,
        leaseMs: policy.leaseMs,
        maxAgeMs: policy.maxAgeMs,
        intervalMs,
        toleranceMs: intervalMs * (burst - 1),
        wpol: POLICY_CODE[policy.windowPolicy ?? 'enforce'],
        reconcileMs: policy.reconcileMs ?? DEFAULT_RECONCILE_MS,
        wamidTtl: this.#wamidTtlS,
        appliedUpTo: policy.callbacksAppliedUpToMs === undefined ? '' : Math.floor(policy.callbacksAppliedUpToMs),
      },
    ).then((reply) => parseClaim(reply, channel, this.index));
  }

  #leaseKeys(lease: Lease): Record<LeaseKeys, string> {
    return { rec: this.keys.record(lease.id), state: this.keys.channel(lease.channel).recipient(lease.to) };
  }

  #common(nowMs: number): Record<Common, string | number> {
    return { base: this.#p, now: nowMs, recTtl: this.#recordTtlS };
  }

  /** The attempt ended for good: sent (with CBOT's id), failed (with its error) or expired. */
  settle(
    lease: Lease,
    nowMs: number,
    outcome: { kind: 'sent'; wamid: string } | { kind: 'failed'; error: unknown } | { kind: 'expired' },
    attempt?: Attempt,
  ): Promise<{ recorded: string; advanced: boolean }> {
    return this.#settle(this.#leaseKeys(lease), {
      ...this.#common(nowMs),
      ch: lease.channel,
      to: lease.to,
      tok: lease.token,
      entry: lease.entry,
      outcome: outcome.kind,
      attemptJson: attempt ? attemptField(attempt) : '',
      wamid: outcome.kind === 'sent' ? outcome.wamid : '',
      errorJson: outcome.kind === 'failed' ? JSON.stringify(outcome.error ?? null) : '',
      wamidTtl: this.#wamidTtlS,
    });
  }

  /**
   * The attempt will be retried at `untilMs` (the message stays at its recipient's head meanwhile),
   * unless `countsAsFailure` brings its failures to `maxAttempts`: then it ends failed with `error`.
   */
  retry(lease: Lease, nowMs: number, opts: RetryOptions, attempt: Attempt): Promise<RetryResult> {
    return this.#retry(this.#leaseKeys(lease), {
      ...this.#common(nowMs),
      ch: lease.channel,
      to: lease.to,
      tok: lease.token,
      entry: lease.entry,
      attemptJson: attemptField(attempt),
      counts: opts.countsAsFailure ? 1 : 0,
      keepInflight: opts.keepInflight ? 1 : 0,
      untilMs: Math.round(opts.untilMs),
      maxAttempts: opts.maxAttempts,
      errorJson: JSON.stringify(opts.error ?? null),
      fallback: opts.fallback ? '1' : '',
      pair: opts.pairRateLimit ? 1 : 0,
      retryAfterMs: opts.retryAfterMs === undefined ? '' : Math.round(opts.retryAfterMs),
    });
  }

  /** Moves the lease's expiry to `untilMs` (also while Redis is at maxmemory); false when the lease had moved on. */
  async renew(lease: Lease, untilMs: number): Promise<boolean> {
    const ch = this.keys.channel(lease.channel);
    return Number(await this.#renew([ch.leases, ch.recipient(lease.to)], [lease.to, lease.token, Math.round(untilMs)])) === 1;
  }

  /** Gives a lease back unused: the recipient is ready again, its head message in place. False when the lease had moved on. */
  release(lease: Lease, nowMs: number): Promise<boolean> {
    return this.#release(this.#leaseKeys(lease), { ...this.#common(nowMs), ch: lease.channel, to: lease.to, tok: lease.token, entry: lease.entry, keepInflight: lease.ambiguous ? 1 : 0 });
  }

  /** A failed message back to 'queued' behind its recipient's pending ones, atomically. */
  replay(id: string, nowMs: number): Promise<ReplayResult> {
    const attempt: Attempt = { at: new Date(nowMs).toISOString(), outcome: 'replayed' };
    return this.#replay({ rec: this.keys.record(id) }, { ...this.#common(nowMs), id, attemptJson: attemptField(attempt) });
  }

  /**
   * A message WhatsApp failed for its window after it was sent (a `failed` status callback with
   * 131047 / 470) back to the front of its recipient's queue, to go as its fallback template
   * (lua/fallback-requeue.lua). False when it has no unused fallback or is not failed.
   */
  fallbackAfterFailure(id: string, nowMs: number): Promise<boolean> {
    return this.#fallbackRequeue({ rec: this.keys.record(id) }, { ...this.#common(nowMs), id, wamidTtl: this.#wamidTtlS });
  }

  /** Cancels a message not yet handed to CBOT, atomically with the claims (lua/cancel.lua); `who` '' is any caller's. */
  cancel(id: string, who: string, nowMs: number): Promise<CancelResult> {
    return this.#cancel({ rec: this.keys.record(id) }, { ...this.#common(nowMs), id, who });
  }

  /**
   * Cancels every scheduled or queued message of `caller` tagged `tag` in this partition, CANCEL_SLICE
   * index entries per script call (lua/cancel-tag.lua). Returns how many it canceled.
   */
  async cancelTag(caller: string, tag: string, now: () => number): Promise<number> {
    const index = this.keys.tagIndex(caller, tag);
    let total = 0;
    let after = { score: '0', id: '' };
    for (;;) {
      const slice = await this.#cancelTag({ index }, { ...this.#common(now()), afterScore: after.score, afterId: after.id, limit: CANCEL_SLICE });
      total += slice.canceled;
      if (slice.done) return total;
      after = { score: slice.lastScore, id: slice.lastId };
    }
  }

  /** The callers that sent through this partition within the retention. */
  callers(): Promise<string[]> {
    return this.#redis.smembers(this.keys.indexedCallers);
  }

  /** CBOT told us to slow down on a channel: every dispatcher holds that channel off for `ms` (extends, never shortens). */
  async pause(ms: number, channel: string = DEFAULT_CHANNEL): Promise<void> {
    // One script: two dispatchers throttled at once must not let the shorter pause replace the longer.
    await this.#pause({ pause: this.keys.channel(channel).gatePause }, { ms: Math.max(1, Math.round(ms)) });
  }

  /** 131056 in a failed status callback: the recipient's pair-rate wait grows and, unless leased, it is held (PAIR_HOLD). */
  holdRecipient(channel: string, to: string, nowMs: number): Promise<{ held: boolean; untilMs: number }> {
    return this.#pairHold({ state: this.keys.channel(channel).recipient(to) }, { ...this.#common(nowMs), ch: channel, to });
  }

  #gateKeys(channel: string) {
    const ch = this.keys.channel(channel);
    return { gate: ch.gatePause, esc: ch.gateEscalation, seq: ch.gateSeq };
  }

  /** One step of a channel's gate (lua/gate.lua); `mirror` writes another partition's answer. */
  gate(
    channel: string,
    step: { action: string; reason: string; code?: number; ms: number; value?: string },
    nowMs: number,
    qualityPauseMs: number,
  ): Promise<{ changed: boolean; value: string; pttlMs: number }> {
    return this.#gate(this.#gateKeys(channel), {
      action: step.action,
      reason: step.reason,
      code: step.code ?? '',
      ms: Math.max(-1, Math.round(step.ms)),
      now: nowMs,
      qualityMs: qualityPauseMs,
      value: step.value ?? '',
      wake: this.wakeChannel,
    });
  }

  async gateState(channel: string, nowMs: number): Promise<ChannelGateState> {
    const { gate } = this.#gateKeys(channel);
    const [value, pttl] = await Promise.all([this.#redis.get(gate), this.#redis.pttl(gate)]);
    return parseGate(value, pttl, nowMs);
  }

  /** The held-until time (epoch ms) of a recipient of a channel, when it is held (a retry, a pair hold). */
  async heldUntil(channel: string, to: string): Promise<number | undefined> {
    const score = await this.#redis.zscore(this.keys.channel(channel).held, to);
    return score === null ? undefined : Number(score);
  }

  /** How much longer claims on the channel wait after CBOT's throttling (0: not paused). */
  async pausedForMs(channel: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(this.keys.channel(channel).gatePause));
  }

  /** Caller weights for the fair share (default 1); every process of one relay writes the same. */
  async setWeights(weights: Record<string, number>): Promise<void> {
    const key = this.keys.weights;
    const flat = Object.entries(weights).flatMap(([caller, w]) => [caller, String(w)]);
    const multi = this.#redis.multi().del(key);
    if (flat.length > 0) multi.hset(key, ...flat);
    await multi.exec();
  }

  /**
   * Messages queued per channel (not yet sent or ended); channels with none are absent. Messages
   * queued before channels existed are not counted, but any that remain show as `default` (at least 1):
   * a recipient with messages is always ready, held or leased in its channel's scheduler.
   */
  async queuedByChannel(): Promise<Record<string, number>> {
    const h = await this.#redis.hgetall(this.keys.channels);
    const out: Record<string, number> = Object.fromEntries(Object.entries(h).map(([ch, n]) => [ch, Number(n)]).filter(([, n]) => (n as number) > 0));
    if (out[DEFAULT_CHANNEL] === undefined) {
      const ch = this.keys.channel(DEFAULT_CHANNEL);
      const keys = [ch.ring('h'), ch.ring('n'), ch.ring('b'), ch.held, ch.leases];
      if ((await this.#redis.exists(...keys)) > 0) out[DEFAULT_CHANNEL] = 1;
    }
    return out;
  }

  /** Open messages (accepted, not sent, failed or expired) and their body bytes. */
  async backlog(): Promise<{ count: number; bytes: number }> {
    const [count, bytes] = await Promise.all([this.#redis.zcard(this.keys.open), this.#redis.get(this.keys.openBytes)]);
    return { count, bytes: Number(bytes ?? 0) };
  }

  /** Queued messages (not in flight) per caller and priority. */
  async pending(): Promise<{ caller: string; priority: Priority; count: number }[]> {
    const h = await this.#redis.hgetall(this.keys.pending);
    return Object.entries(h).map(([field, n]) => {
      const at = field.lastIndexOf('|');
      return { caller: field.slice(0, at), priority: PRIORITY_NAME[field.slice(at + 1)] ?? 'normal', count: Number(n) };
    });
  }

  /** Age of the oldest open message (0 when none). */
  async oldestOpenAgeMs(nowMs: number): Promise<number> {
    const first = await this.#redis.zrange(this.keys.open, '0', '0', 'WITHSCORES');
    return first[1] === undefined ? 0 : Math.max(0, nowMs - Number(first[1]));
  }
}

/**
 * The outbound side of Redis, over its partitions (partitions.ts): an accept goes to its recipient's
 * partition, a lease's steps to the partition it came from, a relay id's to the one its id names, and
 * the rest (pause, weights, counts) to every partition. With one partition this is the partition.
 *
 * What partitions change (documented in the README): the backlog bounds and each channel's send rate
 * are split evenly over the partitions, and an Idempotency-Key reused with another body is caught
 * before the accept by a per-key fingerprint (one more Redis call) rather than inside it.
 */
export class Outbound {
  readonly partitions: Partitions;
  readonly #parts: OutboundPartition[];
  readonly #redis: Redis | Cluster;
  readonly #idemTtlS: number;
  /** Per-minute accepted / sent / failed for the console's overview. */
  readonly #counts: MinuteCounters;

  constructor(opts: OutboundOptions) {
    this.partitions = new Partitions(opts.prefix, opts.partitions ?? 1);
    this.#counts = new MinuteCounters(opts.redis, new RelayKeys(opts.prefix));
    const n = this.partitions.count;
    this.#redis = opts.redis;
    this.#idemTtlS = opts.idempotencyTtlS ?? 86_400;
    this.#parts = this.partitions.bases.map(
      (base, index) =>
        new OutboundPartition({
          ...opts,
          index,
          prefix: base,
          ...(opts.backlogMax === undefined ? {} : { backlogMax: Math.ceil(opts.backlogMax / n) }),
          ...(opts.backlogMaxBytes === undefined || opts.backlogMaxBytes === 0 ? {} : { backlogMaxBytes: Math.ceil(opts.backlogMaxBytes / n) }),
        }),
    );
  }

  #of(id: string): OutboundPartition {
    return this.#parts[this.partitions.ofId(id)]!;
  }

  /** The channels accepts publish on when a claim found nothing since (dispatchers subscribe), one per partition. */
  get wakeChannels(): string[] {
    return this.#parts.map((p) => p.wakeChannel);
  }

  /**
   * Makes a message durable and queues it behind its recipient's earlier ones, atomically with the
   * Idempotency-Key and the backlog bounds. The id the message gets is `input.id` with its partition
   * stamped in (partitions.ts): use the answer's. Concurrent calls are coalesced per partition.
   */
  async accept(input: AcceptInput): Promise<AcceptResult> {
    const k = this.partitions.ofRecipient(input.to);
    const row = { ...input, id: this.partitions.stamp(input.id, k) };
    if (input.idempotency && this.partitions.count > 1) {
      // A key reused for another recipient would reach another partition's Idempotency-Key: the first
      // body's fingerprint, kept by key, sends it away with a conflict.
      const { key, fingerprint } = input.idempotency;
      const home = new PartitionKeys(this.partitions.bases[this.partitions.ofRecipient(`${input.caller}:${key}`)]!);
      const first = await this.#redis.set(home.idempotencyFingerprint(input.caller, key), fingerprint, 'EX', this.#idemTtlS, 'NX', 'GET');
      if (first !== null && first !== fingerprint) return { kind: 'conflict' };
    }
    const result = await this.#parts[k]!.accept(row);
    if (result.kind === 'created') this.#counts.bump('accepted', 1, input.nowMs);
    return result;
  }

  /** The W3C `traceparent` the message was accepted under, when tracing was on then. */
  traceparent(id: string): Promise<string | undefined> {
    return this.#of(id).traceparent(id);
  }

  /**
   * Claims up to `n` recipients of one channel in one partition (lua/claim.lua),
   * within the channel's pause and the partition's share of its rate.
   */
  claim(n: number, nowMs: number, policy: ClaimPolicy, channel: string = DEFAULT_CHANNEL, partition = 0): Promise<Claim> {
    const share = this.partitions.count === 1 ? policy : { ...policy, ratePerSecond: policy.ratePerSecond / this.partitions.count };
    return this.#parts[partition]!.claim(n, nowMs, share, channel);
  }

  async settle(...args: Parameters<OutboundPartition['settle']>): ReturnType<OutboundPartition['settle']> {
    const result = await this.#parts[args[0].partition]!.settle(...args);
    const kind = args[2].kind;
    if (kind !== 'expired') this.#counts.bump(kind, 1, args[1]);
    return result;
  }

  async retry(...args: Parameters<OutboundPartition['retry']>): ReturnType<OutboundPartition['retry']> {
    const result = await this.#parts[args[0].partition]!.retry(...args);
    if (result.kind === 'failed') this.#counts.bump('failed', 1, args[1]);
    return result;
  }

  release(lease: Lease, nowMs: number): Promise<boolean> {
    return this.#parts[lease.partition]!.release(lease, nowMs);
  }

  renew(lease: Lease, untilMs: number): Promise<boolean> {
    return this.#parts[lease.partition]!.renew(lease, untilMs);
  }

  replay(id: string, nowMs: number): Promise<ReplayResult> {
    return this.#of(id).replay(id, nowMs);
  }

  fallbackAfterFailure(id: string, nowMs: number): Promise<boolean> {
    return this.#of(id).fallbackAfterFailure(id, nowMs);
  }

  /** Cancels a message not yet handed to CBOT (lua/includes/cancel.lua); `who` undefined: any caller's. */
  cancel(id: string, who: string | undefined, nowMs: number): Promise<CancelResult> {
    return this.#of(id).cancel(id, who ?? '', nowMs);
  }

  /**
   * Cancels every unsent message tagged `tag` of `caller` (undefined: of every caller), in every
   * partition; returns how many. A message claimed before its slice ran is `sending` and not counted;
   * every one counted is never sent.
   */
  async cancelTag(caller: string | undefined, tag: string, now: () => number): Promise<number> {
    const counts = await Promise.all(
      this.#parts.map(async (p) => {
        const callers = caller === undefined ? await p.callers() : [caller];
        let n = 0;
        for (const c of callers) n += await p.cancelTag(c, tag, now);
        return n;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Queues a read receipt for an inbound message (once per wamid and channel for 24 h), in the
   * partition the wamid hashes to: the recipient is not needed, since claims serve receipts before
   * recipients. `duplicate`: one was queued within the window, nothing more is sent.
   */
  acceptReceipt(input: ReceiptInput): Promise<ReceiptAcceptResult> {
    return this.#parts[this.partitions.ofRecipient(input.wamid)]!.receipts.accept(input);
  }

  /** A receipt's attempt ended: sent, failed, or to retry later (lua/receipt-settle.lua). */
  settleReceipt(lease: ReceiptLease, outcome: ReceiptOutcome): Promise<ReceiptSettled> {
    return this.#parts[lease.partition]!.receipts.settle(lease, outcome);
  }

  /** CBOT told us to slow down on a channel: every dispatcher holds that channel off for `ms`, in every partition. */
  async pause(ms: number, channel: string = DEFAULT_CHANNEL): Promise<void> {
    await Promise.all(this.#parts.map((p) => p.pause(ms, channel)));
  }

  /**
   * Changes a channel's gate (pause, stop, resume; see lua/gate.lua): partition 0 decides
   * (escalation, what a stop or a longer pause keeps), every other partition gets its answer, so a
   * claim in any partition sees the same. `changed`: the gate moved (a new state for an event); a
   * throttle inside a longer pause, or anything but a resume on a stopped channel, changes nothing.
   * Stopped and indefinite holds have no `until`.
   */
  async changeGate(channel: string, change: GateChange, nowMs: number, qualityPauseMs: number): Promise<{ changed: boolean; state: ChannelGateState }> {
    const step = gateStep(change);
    const first = await this.#parts[0]!.gate(channel, step, nowMs, qualityPauseMs);
    if (first.changed && this.#parts.length > 1) {
      const mirror = { action: 'mirror', reason: step.reason, ms: first.pttlMs, value: parseGate(first.value, first.pttlMs, nowMs).state === 'active' ? '' : first.value };
      await Promise.all(this.#parts.slice(1).map((p) => p.gate(channel, mirror, nowMs, qualityPauseMs)));
    }
    return { changed: first.changed, state: parseGate(first.value, first.pttlMs, nowMs) };
  }

  /** A channel's gate now, as partition 0 holds it (the others mirror it). */
  gateState(channel: string, nowMs: number): Promise<ChannelGateState> {
    return this.#parts[0]!.gateState(channel, nowMs);
  }

  holdRecipient(channel: string, to: string, nowMs: number): Promise<{ held: boolean; untilMs: number }> {
    return this.#parts[this.partitions.ofRecipient(to)]!.holdRecipient(channel, to, nowMs);
  }

  /** When a recipient of a channel is held until (epoch ms), if it is. */
  heldUntil(channel: string, to: string): Promise<number | undefined> {
    return this.#parts[this.partitions.ofRecipient(to)]!.heldUntil(channel, to);
  }

  /** A channel's number quality (`phone_number.quality` callbacks): GREEN, YELLOW, RED; absent when none came yet. */
  async setQuality(channel: string, quality: string): Promise<void> {
    await this.#redis.hset(this.#parts[0]!.keys.channelQuality, channel, quality);
  }

  async qualities(): Promise<Record<string, string>> {
    return this.#redis.hgetall(this.#parts[0]!.keys.channelQuality);
  }

  async pausedForMs(channel: string = DEFAULT_CHANNEL): Promise<number> {
    return Math.max(0, ...(await Promise.all(this.#parts.map((p) => p.pausedForMs(channel)))));
  }

  async setWeights(weights: Record<string, number>): Promise<void> {
    await Promise.all(this.#parts.map((p) => p.setWeights(weights)));
  }

  async queuedByChannel(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const counts of await Promise.all(this.#parts.map((p) => p.queuedByChannel()))) {
      for (const [ch, n] of Object.entries(counts)) out[ch] = (out[ch] ?? 0) + n;
    }
    return out;
  }

  async backlog(): Promise<{ count: number; bytes: number }> {
    const all = await Promise.all(this.#parts.map((p) => p.backlog()));
    return all.reduce((a, b) => ({ count: a.count + b.count, bytes: a.bytes + b.bytes }), { count: 0, bytes: 0 });
  }

  async pending(): Promise<{ caller: string; priority: Priority; count: number }[]> {
    const sum = new Map<string, { caller: string; priority: Priority; count: number }>();
    for (const rows of await Promise.all(this.#parts.map((p) => p.pending()))) {
      for (const r of rows) {
        const at = sum.get(`${r.caller}|${r.priority}`);
        if (at) at.count += r.count;
        else sum.set(`${r.caller}|${r.priority}`, { ...r });
      }
    }
    return [...sum.values()];
  }

  async oldestOpenAgeMs(nowMs: number): Promise<number> {
    return Math.max(0, ...(await Promise.all(this.#parts.map((p) => p.oldestOpenAgeMs(nowMs)))));
  }
}

/** What the gate script is told for a change. */
function gateStep(change: GateChange): { action: string; reason: string; code?: number; ms: number } {
  switch (change.action) {
    case 'throughput':
      return { action: 'throughput', reason: 'throughput', code: change.code, ms: change.retryAfterMs ?? -1 };
    case 'quality':
      return { action: 'quality', reason: 'quality', code: change.code, ms: change.retryAfterMs ?? -1 };
    case 'stop':
      return { action: 'stop', reason: 'restricted', code: change.code, ms: 0 };
    case 'pause':
      return { action: 'pause', reason: 'operator', ms: change.ms ?? 0 };
    case 'resume':
      return { action: 'resume', reason: 'operator', ms: 0 };
  }
}

function parseClaim(reply: unknown, channel: string, partition: number): Claim {
  const [jobs, ended, state, waitMs, receipts] = replyArray(reply, 'claim');
  const s = replyString(state, 'claim');
  if (s !== 'more' && s !== 'rate' && s !== 'paused' && s !== 'idle') throw new Error(`claim: unexpected state ${s}`);
  return {
    leases: replyArray(jobs, 'claim').map((job) => {
      const [to, token, entry, body, ambiguous, failures, acceptedAt, caller, fb] = replyArray(job, 'claim').map((c) => replyString(c, 'claim'));
      return {
        to: to!,
        token: token!,
        entry: entry!,
        id: entry!.slice(1),
        body: body!,
        ambiguous: ambiguous === '1',
        failures: Number(failures),
        acceptedAtMs: Number(acceptedAt),
        caller: caller!,
        priority: PRIORITY_NAME[entry!.charAt(0)] ?? 'normal',
        channel,
        partition,
        fallback: fb === '2' ? 'use' : fb === '1' ? 'has' : 'none',
      };
    }),
    ended: replyArray(ended, 'claim').map((e) => {
      const [reason, id] = replyArray(e, 'claim').map((c) => replyString(c, 'claim'));
      return { reason: reason as Claim['ended'][number]['reason'], id: id! };
    }),
    state: s,
    waitMs: Number(waitMs),
    ...parseClaimReceipts(receipts, channel, partition),
  };
}

function parseCancel(reply: unknown): CancelResult {
  const answer = replyString(replyArray(reply, 'cancel')[0], 'cancel');
  if (answer === 'ok') return { kind: 'canceled' };
  if (answer === 'missing') return { kind: 'missing' };
  return { kind: 'not-cancelable', status: answer };
}

function parseReplay(reply: unknown): ReplayResult {
  const [kind, detail] = replyArray(reply, 'replay');
  switch (replyString(kind, 'replay')) {
    case 'ok':
      return { kind: 'replayed', to: replyString(detail, 'replay') };
    case 'not-failed':
      return { kind: 'not-failed', status: replyString(detail, 'replay') };
    case 'no-body':
      return { kind: 'no-body' };
    default:
      return { kind: 'missing' };
  }
}

function parseAccept(answer: unknown): AcceptResult {
  const [kind, detail, win] = replyArray(answer, 'accept');
  const k = replyOneOf(kind, ACCEPT_KINDS, 'accept');
  const d = replyString(detail, 'accept');
  switch (k) {
    case 'full':
      return { kind: 'full', bound: d === 'bytes' ? 'bytes' : 'count' };
    case 'window':
      return { kind: 'window', lastInboundAtS: d === '' ? undefined : Number(d) };
    case 'optout':
      return { kind: 'opted-out', optedOutAtMs: Number(d) };
    case 'conflict':
      return { kind: k, id: d };
    default:
      return { kind: k, id: d, window: WINDOW_OF_CODE[win === undefined ? 'u' : replyString(win, 'accept')] ?? 'unknown' };
  }
}
