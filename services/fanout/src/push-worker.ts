import { UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { RelayEvent } from '@cbot-relay/messages';
import { signingSecrets } from '@cbot-relay/records';
import type { PreviousSecret } from '@cbot-relay/records';
import { NOOP_TRACING } from '@cbot-relay/observability';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import { pushBackoffMs } from './push-backoff.js';
import { PushClient } from './push-client.js';
import { subscriberQueueName } from './subscriber-queues.js';
import type { HttpSubscriber } from './subscriptions.js';
import { signingKey, webhookHeaders } from './webhook-signature.js';

export interface PushWorkerOptions {
  connection: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  subscriber: HttpSubscriber;
  /**
   * The subscriber as it is now (a changed URL or a rotated secret applies from the next attempt on,
   * without restarting the worker); default: `subscriber` as given.
   */
  current?: () => SignedSubscriber;
  concurrency: number;
  timeoutMs: number;
  /** Delay (ms) after `failures` failed attempts; tests pass a fast one. */
  backoffMs?: (failures: number) => number;
  now: () => number;
  log: Logger;
  metrics: Pick<Metrics, 'pushes'>;
  /** When on: BullMQ's telemetry on the worker, a CLIENT span per push, and `traceparent` sent along. */
  tracing?: Tracing | undefined;
}

/** An HTTP subscriber with the secrets of a rotation still in their overlap window. */
export type SignedSubscriber = HttpSubscriber & { previousSecrets?: readonly PreviousSecret[] };

/**
 * Delivers one HTTP subscriber's events (`push.<name>`), signed per Standard Webhooks. Each subscriber
 * has its own queue, worker and connection pool, so one that is slow or down never delays another.
 * Non-2xx, timeouts and network errors throw: BullMQ retries with the push backoff, and after the last
 * attempt the job stays in the failed set, the subscriber's dead letters.
 */
export class PushWorker {
  readonly #worker: Worker;
  readonly #client: PushClient;
  #closing: Promise<void> | undefined;

  constructor(opts: PushWorkerOptions) {
    const { subscriber: sub, log, metrics } = opts;
    const current = opts.current ?? (() => sub);
    const backoff = opts.backoffMs ?? ((failures: number) => pushBackoffMs(failures));
    const tracing = opts.tracing ?? NOOP_TRACING;
    this.#client = new PushClient({ timeoutMs: opts.timeoutMs });
    this.#worker = new Worker(
      subscriberQueueName(sub, opts.cluster),
      async (job: Job) => {
        const parsed = RelayEvent.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError('invalid event payload');
        const event = parsed.data;
        const body = JSON.stringify(event);
        const target = current();
        const at = opts.now();
        const keys = signingSecrets(target, at).map(signingKey);
        const attributes = { 'cbot_relay.subscriber': sub.name, 'cbot_relay.event_id': event.id, 'cbot_relay.message_id': event.relayMessageId, 'cbot_relay.attempt': job.attemptsMade + 1 };
        const status = await tracing.span('subscriber push', { kind: 'client', attributes }, async (span) => {
          const headers = webhookHeaders(keys, event.id, at, body);
          tracing.inject(headers);
          const answered = await this.#client.post(target.url, headers, body);
          span.setAttributes({ 'http.response.status_code': answered });
          if (answered < 200 || answered > 299) span.fail(`HTTP ${answered}`);
          return answered;
        });
        if (status < 200 || status > 299) throw new Error(`subscriber answered HTTP ${status}`);
        metrics.pushes.inc({ subscriber: sub.name, outcome: 'delivered' });
      },
      {
        connection: opts.connection,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        // The lock must outlive one whole attempt (bounded by the push timeout). Stalled jobs of a
        // killed worker are looked for every 5 s (BullMQ's default is 30 s); a redelivery carries
        // the same webhook-id.
        lockDuration: Math.max(30_000, opts.timeoutMs + 10_000),
        stalledInterval: 5_000,
        maxStalledCount: 10,
        settings: { backoffStrategy: (attemptsMade: number) => backoff(attemptsMade) },
        ...(tracing.bullmq ? { telemetry: tracing.bullmq } : {}),
      },
    );
    this.#worker.on('error', (err) => log.error({ err, subscriber: sub.name }, 'push worker error'));
    this.#worker.on('failed', (job, err) => {
      if (!job) return;
      const dead = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      metrics.pushes.inc({ subscriber: sub.name, outcome: dead ? 'dead_lettered' : 'retry' });
      const relayId = (job.data as { relayMessageId?: unknown }).relayMessageId;
      const fields = { eventId: job.id, ...(typeof relayId === 'string' ? { relayId } : {}), subscriber: sub.name, attemptsMade: job.attemptsMade, reason: err.message };
      // Retries are counted in metrics; logging each one would flood the log during an outage.
      if (dead) log.warn(fields, 'push gave up; event kept as a dead letter');
      else log.debug(fields, 'push failed; will retry');
    });
  }

  get running(): boolean {
    return this.#closing === undefined && this.#worker.isRunning();
  }

  /** Waits for deliveries in flight, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([this.#worker.close()])
      .then(() => this.#client.close())
      .then(() => undefined);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
