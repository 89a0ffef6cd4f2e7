import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { Claim, ClaimPolicy } from '@cbot-relay/records';
import type { DispatchDeps } from './dispatch-message.js';
import { sendLeased } from './dispatch-message.js';

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
  /** CBOT_RATE_LIMIT: messages per second across every dispatcher. */
  ratePerSecond: number;
  /** Most recipients claimed in one script call. */
  maxClaim?: number;
  /** Longest sleep while idle: a safety net under the wake-up publish. */
  idlePollMs?: number;
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
 */
export class Dispatcher {
  readonly #o: Required<DispatcherOptions>;
  readonly #policy: ClaimPolicy;
  readonly #inflight = new Set<Promise<void>>();
  readonly #sub: Redis | Cluster;
  #pumping = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(opts: DispatcherOptions) {
    this.#o = { maxClaim: 64, idlePollMs: 5_000, ...opts };
    this.#policy = { leaseMs: opts.leaseMs, maxAgeMs: opts.deps.policy.maxAgeMs, ratePerSecond: opts.ratePerSecond };
    // One connection of its own: a subscribed connection can do nothing else.
    this.#sub = opts.redis instanceof Cluster ? opts.redis.duplicate() : opts.redis.duplicate();
  }

  static async start(opts: DispatcherOptions): Promise<Dispatcher> {
    const d = new Dispatcher(opts);
    d.#sub.on('error', (err: unknown) => opts.deps.log.warn({ err }, 'redis (dispatcher wake-ups) error'));
    d.#sub.on('message', () => d.#pump());
    // Subscribed before the first claim, so no wake-up published after it can be missed.
    await d.#sub.subscribe(opts.deps.outbound.wakeChannel);
    d.#pump();
    return d;
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

  async #fill(): Promise<void> {
    const { deps, concurrency, maxClaim, idlePollMs } = this.#o;
    while (!this.#closing && this.#inflight.size < concurrency) {
      // A lease must outlive the whole attempt, so a send must start early enough in it: by the
      // lease's end less the CBOT timeout and the in-attempt retries (2 × 2 s connect + 0.4 s), with margin.
      const sendBy = deps.now() + this.#o.leaseMs - this.#o.cbotTimeoutMs - 5_000;
      const claim = await deps.outbound.claim(Math.min(concurrency - this.#inflight.size, maxClaim), deps.now(), this.#policy);
      const now = deps.now();
      for (const lease of claim.leases) {
        if (lease.failures === 0 && !lease.ambiguous) deps.metrics.queueWait.observe({ caller: lease.caller, priority: lease.priority }, Math.max(0, now - lease.acceptedAtMs) / 1000);
        const sending: Promise<void> = sendLeased(deps, lease, sendBy)
          .catch((err: unknown) => {
            // Only a bug gets here (Redis calls wait out a restart): the lease expires and the message is retried.
            deps.log.error({ err, relayId: lease.id }, 'send step failed; the message is retried when its lease expires');
          })
          .finally(() => {
            this.#inflight.delete(sending);
            this.#pump();
          });
        this.#inflight.add(sending);
      }
      this.#count(claim);
      if (claim.state !== 'more') {
        this.#sleep(claim.waitMs < 0 ? idlePollMs : Math.min(claim.waitMs, idlePollMs));
        return;
      }
    }
  }

  #count(claim: Claim): void {
    const { metrics, log, tracing, outbound } = this.#o.deps;
    for (const { reason, id } of claim.ended) {
      if (reason === 'expired') metrics.expired.inc();
      else if (reason !== 'missing') metrics.failed.inc({ reason });
      const say = () => {
        if (reason === 'expired') log.info({ relayId: id }, 'message expired before it could be sent');
        else if (reason === 'missing') log.warn({ relayId: id }, 'no record for a queued message; skipped');
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

  /** Stops claiming and waits for the sends in flight to be recorded. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      this.#sub.disconnect();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
