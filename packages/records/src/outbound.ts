import type { Cluster, Redis } from 'ioredis';
import { Coalescer, MAX_BATCH_CHARS, batchCall, batchLua, defineScript, luaCommand, replyArray, replyString } from '@cbot-relay/queues';
import type { Script } from '@cbot-relay/queues';
import type { Attempt } from './message-record.js';
import { MinuteCounters } from './minute-counters.js';
import { Partitions } from './partitions.js';
import { PRIORITY_NAME } from './message-record.js';
import {
  ACCEPT_BATCH_PRELUDE,
  ACCEPT_PER_ROW,
  ACCEPT_ROW,
  ACCEPT_SHARED,
  ADOPT,
  ADOPT_ARGS,
  ADOPT_KEYS,
  CLAIM,
  CLAIM_ARGS,
  CLAIM_KEYS,
  PAUSE,
  PAUSE_ARGS,
  PAUSE_KEYS,
  RELEASE,
  RELEASE_ARGS,
  RELEASE_KEYS,
  REPLAY,
  REPLAY_ARGS,
  REPLAY_KEYS,
  RETRY,
  RETRY_ARGS,
  RETRY_KEYS,
  SETTLE,
  SETTLE_ARGS,
  SETTLE_KEYS,
} from './outbound-scripts.js';

export const PRIORITIES = ['high', 'normal', 'bulk'] as const;

/** The channel whose scheduler keys are the relay's own (today's names): what the CBOT_* variables form. */
export const DEFAULT_CHANNEL = 'default';

/** The base of a channel's scheduler keys (must match useChannel in outbound-scripts.ts). */
export function channelKeyBase(prefix: string, channel: string): string {
  return channel === DEFAULT_CHANNEL ? prefix : `${prefix}:c:${channel}`;
}
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
  idempotency?: { key: string; fingerprint: string };
  /** The accepting request's W3C trace context (tracing on): the send joins that trace. */
  traceparent?: string;
}

export type AcceptResult =
  | { kind: 'created'; id: string }
  | { kind: 'duplicate'; id: string }
  | { kind: 'conflict'; id?: string }
  | { kind: 'full'; bound: 'count' | 'bytes' };

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
}

export type ClaimState = 'more' | 'rate' | 'paused' | 'idle';

export interface Claim {
  leases: Lease[];
  /** Head messages that ended without a send: expired, too old, body gone, record missing. */
  ended: { reason: 'expired' | 'max_age' | 'no_body' | 'missing'; id: string }[];
  state: ClaimState;
  /** For `rate`/`paused`: when to try again; for `idle`: when the next hold or lease falls due (-1: none). */
  waitMs: number;
}

export interface ClaimPolicy {
  leaseMs: number;
  maxAgeMs: number;
  ratePerSecond: number;
}

export type ReplayResult =
  | { kind: 'replayed'; to: string }
  | { kind: 'missing' }
  | { kind: 'not-failed'; status: string }
  | { kind: 'no-body' };

/**
 * One partition of the outbound side (all of it when there is one): accepting a message onto its
 * recipient's queue, claiming recipients fairly for sending, and settling each attempt — every step
 * one Lua script over keys the relay owns (outbound-scripts.ts), all under the partition's base.
 */
class OutboundPartition {
  readonly index: number;
  readonly #redis: Redis | Cluster;
  readonly #p: string;
  readonly #recordTtlS: number;
  readonly #idemTtlS: number;
  readonly #wamidTtlS: number;
  readonly #backlogMax: number;
  readonly #backlogMaxBytes: number;
  readonly #acceptBatch: (keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;
  readonly #accepts: Coalescer<AcceptInput, AcceptResult>;
  readonly #claim: Script<(typeof CLAIM_KEYS)[number], (typeof CLAIM_ARGS)[number], unknown>;
  readonly #settle: Script<(typeof SETTLE_KEYS)[number], (typeof SETTLE_ARGS)[number], { recorded: string; advanced: boolean }>;
  readonly #retry: Script<(typeof RETRY_KEYS)[number], (typeof RETRY_ARGS)[number], { kind: 'held' | 'failed' | 'stale'; failures: number }>;
  readonly #pause: Script<(typeof PAUSE_KEYS)[number], (typeof PAUSE_ARGS)[number], unknown>;
  readonly #release: Script<(typeof RELEASE_KEYS)[number], (typeof RELEASE_ARGS)[number], boolean>;
  readonly #replay: Script<(typeof REPLAY_KEYS)[number], (typeof REPLAY_ARGS)[number], ReplayResult>;
  readonly #adopt: Script<(typeof ADOPT_KEYS)[number], (typeof ADOPT_ARGS)[number], boolean>;

  constructor(opts: OutboundOptions & { index: number }) {
    this.index = opts.index;
    this.#redis = opts.redis;
    this.#p = opts.prefix;
    this.#recordTtlS = opts.recordTtlS;
    this.#idemTtlS = opts.idempotencyTtlS ?? 86_400;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    this.#backlogMax = opts.backlogMax ?? Number.MAX_SAFE_INTEGER;
    this.#backlogMaxBytes = opts.backlogMaxBytes ?? 0;
    this.#acceptBatch = luaCommand(
      this.#redis,
      batchLua({ ...ACCEPT_ROW, shared: ACCEPT_SHARED, prelude: ACCEPT_BATCH_PRELUDE, perItem: ACCEPT_PER_ROW }),
      'any',
    );
    this.#accepts = new Coalescer((items) => this.#acceptRows(items), {
      maxBatch: opts.maxAcceptBatch ?? 100,
      maxBatchWeight: MAX_BATCH_CHARS,
      weigh: (input) => input.body.length,
    });
    this.#claim = defineScript(this.#redis, { keys: CLAIM_KEYS, args: CLAIM_ARGS, lua: CLAIM, parse: (reply) => reply });
    this.#settle = defineScript(this.#redis, {
      keys: SETTLE_KEYS,
      args: SETTLE_ARGS,
      lua: SETTLE,
      parse: (reply) => {
        const [recorded, advanced] = replyArray(reply, 'settle');
        return { recorded: replyString(recorded, 'settle'), advanced: Number(advanced) === 1 };
      },
    });
    this.#retry = defineScript(this.#redis, {
      keys: RETRY_KEYS,
      args: RETRY_ARGS,
      lua: RETRY,
      parse: (reply) => {
        const [kind, failures] = replyArray(reply, 'retry');
        const k = replyString(kind, 'retry');
        if (k !== 'held' && k !== 'failed' && k !== 'stale') throw new Error(`retry: unexpected answer ${k}`);
        return { kind: k, failures: Number(failures) };
      },
    });
    this.#pause = defineScript(this.#redis, { keys: PAUSE_KEYS, args: PAUSE_ARGS, lua: PAUSE, parse: (reply) => reply });
    this.#release = defineScript(this.#redis, {
      keys: RELEASE_KEYS,
      args: RELEASE_ARGS,
      lua: RELEASE,
      parse: (reply) => Number(replyArray(reply, 'release')[0]) === 1,
    });
    this.#replay = defineScript(this.#redis, { keys: REPLAY_KEYS, args: REPLAY_ARGS, lua: REPLAY, parse: parseReplay });
    this.#adopt = defineScript(this.#redis, {
      keys: ADOPT_KEYS,
      args: ADOPT_ARGS,
      lua: ADOPT,
      parse: (reply) => replyString(replyArray(reply, 'adopt')[0], 'adopt') === 'moved',
    });
  }

  #key(name: string): string {
    return `${this.#p}:${name}`;
  }

  /** The channel an accept publishes on when a claim found nothing since (dispatchers subscribe). */
  get wakeChannel(): string {
    return this.#key('o:wake');
  }

  /**
   * Makes a message durable and queues it behind its recipient's earlier ones, atomically with the
   * Idempotency-Key and the backlog bounds. Concurrent calls are coalesced: those made while a batch
   * is in Redis go together in the next script call, each still its own atomic accept.
   */
  accept(input: AcceptInput): Promise<AcceptResult> {
    return this.#accepts.submit(input);
  }

  async #acceptRows(items: AcceptInput[]): Promise<(AcceptResult | Error)[]> {
    const { keys, args } = batchCall(
      items.map((input) => ({
        keys: [this.#key(`msg:${input.id}`), this.#idemKey(input), this.#key(`body:${input.id}`)],
        args: [
          input.id,
          input.to,
          input.type,
          input.caller,
          PRIORITY_CODE[input.priority],
          input.expiresAtMs ?? '',
          input.idempotency?.fingerprint ?? '',
          input.body,
          input.traceparent ?? '',
          input.channel ?? DEFAULT_CHANNEL,
        ],
      })),
      ACCEPT_ROW,
    );
    // Rows share the clock of the batch's first request: they were all accepted within one round trip.
    const now = items[0]!.nowMs;
    const shared = [this.#p, now, this.#recordTtlS, this.#idemTtlS, this.#backlogMax, this.#backlogMaxBytes];
    const answers = replyArray(await this.#acceptBatch(keys, [...args, ...shared]), 'accept');
    return answers.map((answer, i) => {
      const [kind, detail] = replyArray(answer, 'accept');
      const k = replyString(kind, 'accept');
      const d = detail === undefined ? items[i]!.id : replyString(detail, 'accept');
      switch (k) {
        case 'created':
        case 'duplicate':
        case 'conflict':
          return { kind: k, id: d };
        case 'full':
          return { kind: 'full', bound: d === 'bytes' ? 'bytes' : 'count' };
        default:
          return new Error(`accept failed in Redis: ${d}`);
      }
    });
  }

  #idemKey(input: AcceptInput): string {
    return input.idempotency ? this.#key(`idem:${input.caller}:${input.idempotency.key}`) : this.#key('idem:-');
  }

  /** The W3C `traceparent` the message was accepted under, when tracing was on then. */
  async traceparent(id: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.#key(`msg:${id}`), 'tp')) ?? undefined;
  }

  /** Claims up to `n` recipients of one channel (see CLAIM in outbound-scripts.ts), within that channel's rate and pause. */
  claim(n: number, nowMs: number, policy: ClaimPolicy, channel: string = DEFAULT_CHANNEL): Promise<Claim> {
    const cb = channelKeyBase(this.#p, channel);
    const intervalMs = 1000 / policy.ratePerSecond;
    // Bursts of up to a tenth of a second's worth pass at once.
    const burst = Math.max(1, Math.floor(policy.ratePerSecond / 10));
    return this.#claim(
      {
        tat: `${cb}:gate:tat`,
        pause: `${cb}:gate:pause`,
        fence: this.#key('o:fence'),
        weights: this.#key('o:weights'),
        ambiguous: this.#key('ambiguous'),
        idle: this.#key('o:idle'),
      },
      {
        ...this.#common(nowMs),
        ch: channel,
        nowIso: new Date(nowMs).toISOString(),
        n,
        leaseMs: policy.leaseMs,
        maxAgeMs: policy.maxAgeMs,
        intervalMs,
        toleranceMs: intervalMs * (burst - 1),
      },
    ).then((reply) => parseClaim(reply, channel, this.index));
  }

  #leaseKeys(lease: Lease) {
    return { rec: this.#key(`msg:${lease.id}`), state: `${channelKeyBase(this.#p, lease.channel)}:o:r:${lease.to}` };
  }

  #common(nowMs: number) {
    return { base: this.#p, now: nowMs, recTtl: this.#recordTtlS };
  }

  /** The attempt ended for good: sent (with CBOT's id), failed (with its error) or expired. */
  settle(
    lease: Lease,
    nowMs: number,
    outcome: { kind: 'sent'; wamid: string } | { kind: 'failed'; error: unknown } | { kind: 'expired' },
    attempt?: Attempt,
  ): Promise<{ recorded: string; advanced: boolean }> {
    return this.#settle(
      this.#leaseKeys(lease),
      {
        ...this.#common(nowMs),
        ch: lease.channel,
        to: lease.to,
        tok: lease.token,
        entry: lease.entry,
        outcome: outcome.kind,
        attemptJson: attempt ? JSON.stringify(attempt) : '',
        wamid: outcome.kind === 'sent' ? outcome.wamid : '',
        errorJson: outcome.kind === 'failed' ? JSON.stringify(outcome.error ?? null) : '',
        wamidTtl: this.#wamidTtlS,
      },
    );
  }

  /**
   * The attempt will be retried at `untilMs` (the message stays at its recipient's head meanwhile),
   * unless `countsAsFailure` brings its failures to `maxAttempts`: then it ends failed with `error`.
   */
  retry(
    lease: Lease,
    nowMs: number,
    opts: { untilMs: number; countsAsFailure: boolean; keepInflight: boolean; maxAttempts: number; error: unknown },
    attempt: Attempt,
  ): Promise<{ kind: 'held' | 'failed' | 'stale'; failures: number }> {
    return this.#retry(
      this.#leaseKeys(lease),
      {
        ...this.#common(nowMs),
        ch: lease.channel,
        to: lease.to,
        tok: lease.token,
        entry: lease.entry,
        attemptJson: JSON.stringify(attempt),
        counts: opts.countsAsFailure ? 1 : 0,
        keepInflight: opts.keepInflight ? 1 : 0,
        untilMs: Math.round(opts.untilMs),
        maxAttempts: opts.maxAttempts,
        errorJson: JSON.stringify(opts.error ?? null),
      },
    );
  }

  /** Gives a lease back unused: the recipient is ready again, its head message in place. False when the lease had moved on. */
  release(lease: Lease, nowMs: number): Promise<boolean> {
    return this.#release(this.#leaseKeys(lease), { ...this.#common(nowMs), ch: lease.channel, to: lease.to, tok: lease.token, entry: lease.entry, keepInflight: lease.ambiguous ? 1 : 0 });
  }

  /** A failed message back to 'queued' behind its recipient's pending ones, atomically. */
  replay(id: string, nowMs: number): Promise<ReplayResult> {
    const attempt: Attempt = { at: new Date(nowMs).toISOString(), outcome: 'replayed' };
    return this.#replay({ rec: this.#key(`msg:${id}`) }, { ...this.#common(nowMs), id, attemptJson: JSON.stringify(attempt) });
  }

  /** An open record of the lane layout onto its recipient's queue; false when it was moved already or has ended. */
  adopt(id: string, to: string, nowMs: number): Promise<boolean> {
    return this.#adopt({ rec: this.#key(`msg:${id}`) }, { ...this.#common(nowMs), id, to });
  }

  /** CBOT told us to slow down on a channel: every dispatcher holds that channel off for `ms` (extends, never shortens). */
  async pause(ms: number, channel: string = DEFAULT_CHANNEL): Promise<void> {
    // One script: two dispatchers throttled at once must not let the shorter pause replace the longer.
    await this.#pause({ pause: `${channelKeyBase(this.#p, channel)}:gate:pause` }, { ms: Math.max(1, Math.round(ms)) });
  }

  /** How much longer claims on the channel wait after CBOT's throttling (0: not paused). */
  async pausedForMs(channel: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(`${channelKeyBase(this.#p, channel)}:gate:pause`));
  }

  /** Caller weights for the fair share (default 1); every process of one relay writes the same. */
  async setWeights(weights: Record<string, number>): Promise<void> {
    const key = this.#key('o:weights');
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
    const h = await this.#redis.hgetall(this.#key('channels'));
    const out: Record<string, number> = Object.fromEntries(Object.entries(h).map(([ch, n]) => [ch, Number(n)]).filter(([, n]) => (n as number) > 0));
    if (out[DEFAULT_CHANNEL] === undefined) {
      const keys = ['o:ring:h', 'o:ring:n', 'o:ring:b', 'o:held', 'o:leases'].map((k) => this.#key(k));
      if ((await this.#redis.exists(...keys)) > 0) out[DEFAULT_CHANNEL] = 1;
    }
    return out;
  }

  /** Open messages (accepted, not sent, failed or expired) and their body bytes. */
  async backlog(): Promise<{ count: number; bytes: number }> {
    const [count, bytes] = await Promise.all([this.#redis.zcard(this.#key('open')), this.#redis.get(this.#key('open:bytes'))]);
    return { count, bytes: Number(bytes ?? 0) };
  }

  /** Queued messages (not in flight) per caller and priority. */
  async pending(): Promise<{ caller: string; priority: Priority; count: number }[]> {
    const h = await this.#redis.hgetall(this.#key('o:pending'));
    return Object.entries(h).map(([field, n]) => {
      const at = field.lastIndexOf('|');
      return { caller: field.slice(0, at), priority: PRIORITY_NAME[field.slice(at + 1)] ?? 'normal', count: Number(n) };
    });
  }

  /** Age of the oldest open message (0 when none). */
  async oldestOpenAgeMs(nowMs: number): Promise<number> {
    const first = await this.#redis.zrange(this.#key('open'), '0', '0', 'WITHSCORES');
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
    this.#counts = new MinuteCounters(opts.redis, opts.prefix);
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
      const home = this.partitions.bases[this.partitions.ofRecipient(`${input.caller}:${key}`)];
      const first = await this.#redis.set(`${home}:idp:${input.caller}:${key}`, fingerprint, 'EX', this.#idemTtlS, 'NX', 'GET');
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
   * Claims up to `n` recipients of one channel in one partition (see CLAIM in outbound-scripts.ts),
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

  replay(id: string, nowMs: number): Promise<ReplayResult> {
    return this.#of(id).replay(id, nowMs);
  }

  adopt(id: string, to: string, nowMs: number): Promise<boolean> {
    return this.#of(id).adopt(id, to, nowMs);
  }

  /** CBOT told us to slow down on a channel: every dispatcher holds that channel off for `ms`, in every partition. */
  async pause(ms: number, channel: string = DEFAULT_CHANNEL): Promise<void> {
    await Promise.all(this.#parts.map((p) => p.pause(ms, channel)));
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

function parseClaim(reply: unknown, channel: string, partition: number): Claim {
  const [jobs, ended, state, waitMs] = replyArray(reply, 'claim');
  const s = replyString(state, 'claim');
  if (s !== 'more' && s !== 'rate' && s !== 'paused' && s !== 'idle') throw new Error(`claim: unexpected state ${s}`);
  return {
    leases: replyArray(jobs, 'claim').map((job) => {
      const [to, token, entry, body, ambiguous, failures, acceptedAt, caller] = replyArray(job, 'claim').map((c) => replyString(c, 'claim'));
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
      };
    }),
    ended: replyArray(ended, 'claim').map((e) => {
      const [reason, id] = replyArray(e, 'claim').map((c) => replyString(c, 'claim'));
      return { reason: reason as Claim['ended'][number]['reason'], id: id! };
    }),
    state: s,
    waitMs: Number(waitMs),
  };
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
