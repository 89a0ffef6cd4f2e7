import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { DEFAULT_RECONCILE_MS } from '@cbot-relay/records';
import type { Claim, ClaimPolicy } from '@cbot-relay/records';
import type { DispatchDeps } from './dispatch-message.js';
import { sendLeased } from './dispatch-message.js';
import { sendReceipt } from './dispatch-receipt.js';

export interface DispatcherOptions {
  deps: DispatchDeps;
  /** A connection to duplicate for the wake-up subscription. */
  redis: Redis | Cluster;
  /** Most sends in flight in this process (DISPATCH_CONCURRENCY). */
  concurrency: number;
  /**
   * How long a claimed recipient stays leased. Must outlive one whole attempt: CBOT timeout +
   * in-attempt retries (≤ 2 × 2 s connect + 0.4 s) + margin; the relay passes CBOT_TIMEOUT_MS + 10 s.
   */
  leaseMs: number;
  /** CBOT_TIMEOUT_MS: a send may start only while the rest of the lease covers a whole attempt. */
  cbotTimeoutMs: number;
  /** CBOT_RATE_LIMIT: messages per second across every dispatcher (channel `default` when `channels` is not given). */
  ratePerSecond: number;
  /** The channels to claim for, each with its own rate; default: channel `default` at `ratePerSecond`. */
  channels?: readonly DispatchChannel[];
  /** Most recipients claimed in one script call. */
  maxClaim?: number;
  /** Longest sleep while idle: a safety net under the wake-up publish. */
  idlePollMs?: number;
  /**
   * RECONCILE_WINDOW_S in ms: how long a message whose last attempt's answer was lost waits for a
   * status that identifies it before it is sent again (default 30 s; docs/resilience.md).
   */
  reconcileWindowMs?: number;
  /**
   * Every callback the ingress took before the answer (ms) has been applied (callbacks-watermark.ts):
   * asked every `watermarkEveryMs`; a message is not resent after its window while it lags the window's
   * end. Absent: no such check (a relay without fanouts, tests).
   */
  callbacksAppliedUpTo?: () => Promise<number>;
  watermarkEveryMs?: number;
}

export interface DispatchChannel {
  id: string;
  /** Messages per second on this channel (CBOT number) across every dispatcher. */
  ratePerSecond: number;
  /** The channel's WINDOW_POLICY (default `enforce`): re-checked at the claim. */
  windowPolicy?: 'enforce' | 'warn' | 'off';
}

/** A channel's claim state in one outbound partition, in this process: not claimed again before `notBefore` (epoch ms). */
interface ChannelTurn {
  id: string;
  partition: number;
  policy: ClaimPolicy;
  notBefore: number;
  /** The last claim found nothing ready: a wake-up or a finished send makes it worth asking again. */
  idle: boolean;
}

/**
 * Keeps up to `concurrency` sends in flight. Each free slot claims one ready recipient — at most one
 * message per recipient is in flight across every process — so parallelism grows with the number of
 * recipients with pending messages, this limit and the number of processes, bounded by the global
 * rate limit. Nothing is tied to a process: leases are in Redis, so processes come and go (and the
 * concurrency changes) without a drain.
 *
 * When a claim finds nothing ready the dispatcher sleeps until the next hold or lease falls due, or
 * until an accept publishes a wake-up (the claim leaves a flag that makes the next accept publish),
 * or at most `idlePollMs`: an idle dispatcher makes one Redis call every 5 s.
 *
 * Each channel (CBOT number) has its own scheduler, rate and pause in Redis, in each outbound
 * partition (on Redis Cluster, spread over the primaries); the dispatcher claims for each (partition,
 * channel) in turn (round robin, at most `maxClaim` per claim), and one that is paused, rate-limited
 * or idle waits out its own time while the others keep claiming. A wake-up names its partition.
 */
export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'channels' | 'callbacksAppliedUpTo'>> & Pick<DispatcherOptions, 'callbacksAppliedUpTo'>;
  /** The last callbacksAppliedUpTo answer; 0 until the first (nothing is resent before it is known). */
  #appliedUpTo = 0;
  #watermarkTimer: NodeJS.Timeout | undefined;
  readonly #turns: ChannelTurn[];
  #rr = 0;
  /** Wake-ups received so far, per partition: a claim that answered `idle` while one arrived must not sleep. */
  readonly #wakes: number[];
  readonly #inflight = new Set<Promise<void>>();
  readonly #sub: Redis | Cluster;
  #pumping = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(opts: DispatcherOptions) {
    this.#o = { maxClaim: 64, idlePollMs: 5_000, reconcileWindowMs: DEFAULT_RECONCILE_MS, watermarkEveryMs: 500, ...opts };
    const channels = opts.channels ?? [{ id: 'default', ratePerSecond: opts.ratePerSecond }];
    // Partitions first, channels within: consecutive claims go to different partitions (and Redis primaries).
    this.#turns = Array.from({ length: opts.deps.outbound.partitions.count }, (_, partition) =>
      channels.map((c) => ({
        id: c.id,
        partition,
        policy: { leaseMs: opts.leaseMs, maxAgeMs: opts.deps.policy.maxAgeMs, ratePerSecond: c.ratePerSecond, reconcileMs: this.#o.reconcileWindowMs, ...(c.windowPolicy ? { windowPolicy: c.windowPolicy } : {}) },
        notBefore: 0,
        idle: false,
      })),
    ).flat();
    this.#wakes = new Array<number>(opts.deps.outbound.partitions.count).fill(0);
    // One connection of its own: a subscribed connection can do nothing else.
    this.#sub = opts.redis instanceof Cluster ? opts.redis.duplicate() : opts.redis.duplicate();
  }

  static async start(opts: DispatcherOptions): Promise<Dispatcher> {
    const d = new Dispatcher(opts);
    d.#sub.on('error', (err: unknown) => opts.deps.log.warn({ err }, 'redis (dispatcher wake-ups) error'));
    const wakeChannels = opts.deps.outbound.wakeChannels;
    d.#sub.on('message', (channel: string) => {
      d.#wakeIdle(wakeChannels.indexOf(channel));
      d.#pump();
    });
    // Subscribed before the first claim, so no wake-up published after it can be missed.
    await d.#sub.subscribe(...wakeChannels);
    await d.#readWatermark();
    d.#pump();
    return d;
  }

  async #readWatermark(): Promise<void> {
    const read = this.#o.callbacksAppliedUpTo;
    if (!read || this.#closing) return;
    try {
      this.#appliedUpTo = await read();
    } catch (err) {
      this.#o.deps.log.warn({ err }, 'could not read how far callbacks are applied; unknown outcomes wait meanwhile');
    }
    // Idle (every channel's last claim found nothing, nothing in flight): as often as the idle poll,
    // so an idle dispatcher stays at a Redis call every few seconds; a stale watermark only holds longer.
    const idle = this.#inflight.size === 0 && this.#turns.every((t) => t.idle);
    if (!this.#closing) this.#watermarkTimer = setTimeout(() => void this.#readWatermark(), idle ? this.#o.idlePollMs : this.#o.watermarkEveryMs);
  }

  get inFlight(): number {
    return this.#inflight.size;
  }

  get running(): boolean {
    return this.#closing === undefined;
  }

  #pump(): void {
    if (this.#closing) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#again = false;
    void this.#fill()
      .catch((err: unknown) => {
        this.#o.deps.log.error({ err }, 'claiming messages failed; trying again in 1 s');
        this.#sleep(1_000);
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#again) this.#pump();
      });
  }

  /** An accept woke a partition (its index; -1: unknown, all). */
  #wakeIdle(partition: number): void {
    for (let k = 0; k < this.#wakes.length; k++) if (partition < 0 || k === partition) this.#wakes[k]!++;
    for (const t of this.#turns) {
      if (t.idle && (partition < 0 || t.partition === partition)) t.notBefore = 0;
    }
  }

  /** The next channel in round-robin order whose wait is over, or undefined. */
  #nextTurn(now: number): ChannelTurn | undefined {
    const n = this.#turns.length;
    for (let i = 0; i < n; i++) {
      const t = this.#turns[(this.#rr + i) % n]!;
      if (t.notBefore <= now) {
        this.#rr = (this.#rr + i + 1) % n;
        return t;
      }
    }
    return undefined;
  }

  async #fill(): Promise<void> {
    const { deps, concurrency, maxClaim, idlePollMs } = this.#o;
    while (!this.#closing && this.#inflight.size < concurrency) {
      const turn = this.#nextTurn(deps.now());
      if (turn === undefined) {
        const due = Math.min(...this.#turns.map((t) => t.notBefore));
        this.#sleep(Math.min(Math.max(1, due - deps.now()), idlePollMs));
        return;
      }
      // A lease must outlive the whole attempt, so a send must start early enough in it: by the
      // lease's end less the CBOT timeout and the in-attempt retries (2 × 2 s connect + 0.4 s), with margin.
      const sendBy = deps.now() + this.#o.leaseMs - this.#o.cbotTimeoutMs - 5_000;
      const wakes = this.#wakes[turn.partition];
      const policy = this.#o.callbacksAppliedUpTo ? { ...turn.policy, callbacksAppliedUpToMs: this.#appliedUpTo } : turn.policy;
      const claim = await deps.outbound.claim(Math.min(concurrency - this.#inflight.size, maxClaim), deps.now(), policy, turn.id, turn.partition);
      const now = deps.now();
      // Read receipts first: the claim leased them ahead of every message.
      for (const receipt of claim.receipts) {
        this.#track(
          turn,
          sendReceipt(deps, receipt).catch((err: unknown) => {
            // Only a bug gets here: the lease expires and the receipt is tried again.
            deps.log.error({ err, wamid: receipt.wamid }, 'read receipt step failed; retried when its lease expires');
          }),
        );
      }
      for (const lease of claim.leases) {
        if (lease.failures === 0 && !lease.ambiguous) deps.metrics.queueWait.observe({ caller: lease.caller, priority: lease.priority }, Math.max(0, now - lease.acceptedAtMs) / 1000);
        const sending: Promise<void> = sendLeased(deps, lease, sendBy, { leaseMs: this.#o.leaseMs })
          .catch((err: unknown) => {
            // Only a bug gets here (Redis calls wait out a restart): the lease expires and the message is retried.
            deps.log.error({ err, relayId: lease.id }, 'send step failed; the message is retried when its lease expires');
          })
          .finally(() => {
            this.#inflight.delete(sending);
            // The recipient's next message may be ready now, and the rate may have a token again:
            // ask this channel at once (a claim that finds nothing is one cheap call).
            turn.notBefore = 0;
            this.#pump();
          });
        this.#inflight.add(sending);
      }
      this.#count(claim, turn.id);
      // A paused channel is woken like an idle one: a resume publishes on the partition's wake-up channel.
      turn.idle = claim.state === 'idle' || claim.state === 'paused';
      turn.notBefore = claim.state === 'more' ? 0 : now + (claim.waitMs < 0 ? idlePollMs : Math.min(claim.waitMs, idlePollMs));
      // The claim left the idle flag, and an accept saw it and published before this reply was read:
      // that wake-up found the turn not yet idle, so it is this turn's to act on now.
      if (turn.idle && this.#wakes[turn.partition] !== wakes) turn.notBefore = 0;
    }
  }

  /** A send in flight; when it ends, this channel is asked again at once. */
  #track(turn: ChannelTurn, work: Promise<void>): void {
    const sending: Promise<void> = work.finally(() => {
      this.#inflight.delete(sending);
      turn.notBefore = 0;
      this.#pump();
    });
    this.#inflight.add(sending);
  }

  #count(claim: Claim, channel: string): void {
    const { metrics, log, tracing, outbound } = this.#o.deps;
    for (const { reason, wamid } of claim.droppedReceipts) {
      metrics.readReceipts.inc({ channel, outcome: 'dropped' });
      log.warn({ wamid, channel, reason }, reason === 'max_age' ? 'read receipt older than the maximum age; dropped' : 'read receipt past its 24 h window; dropped');
    }
    for (const { reason, id } of claim.ended) {
      if (reason === 'reconciled_opaque' || reason === 'reconciled_recipient') {
        // CBOT took an attempt whose answer was lost, and a status said so: recorded sent, not sent again.
        metrics.reconciled.inc({ outcome: reason === 'reconciled_opaque' ? 'matched_opaque' : 'matched_recipient' });
        metrics.sent.inc();
        log.info({ relayId: id, by: reason.slice('reconciled_'.length) }, 'a status identified a message whose answer was lost: recorded sent, not sent again');
        continue;
      }
      if (reason === 'expired') metrics.expired.inc();
      else if (reason !== 'missing') metrics.failed.inc({ reason });
      const say = () => {
        if (reason === 'expired') log.info({ relayId: id }, 'message expired before it could be sent');
        else if (reason === 'missing') log.warn({ relayId: id }, 'no record for a queued message; skipped');
        else if (reason === 'opted_out') log.info({ relayId: id }, 'message not sent: the recipient opted out');
        else if (reason === 'window') log.info({ relayId: id }, 'message not sent: the customer-service window closed while it waited');
        else log.warn({ relayId: id, reason }, 'message failed');
      };
      // With tracing on, the line carries the trace of the request that accepted the message.
      if (tracing?.enabled) {
        void outbound.traceparent(id).then((tp) => tracing.withParent(tp, say), say);
      } else {
        say();
      }
    }
  }

  #sleep(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#pump(), Math.max(1, ms));
  }

  /**
   * Stops claiming and waits for the sends in flight to be recorded — a write of CBOT's answer that
   * Redis refuses is retried until it lands (keep-writing.ts), so this waits for Redis too; the
   * relay's SHUTDOWN_TIMEOUT_MS bounds it (past it the process exits: an answer left unwritten is in
   * the log, and its message is reconciled from its status callback, docs/resilience.md). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      clearTimeout(this.#watermarkTimer);
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      this.#sub.disconnect();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
