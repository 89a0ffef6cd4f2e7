import { UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { RelayEvent } from '@cbot-relay/messages';
import type { RelayEventType } from '@cbot-relay/messages';

export interface HandlerContext {
  /** 1 on the first try, 2 on the first retry, … */
  attempt: number;
  /** The BullMQ job id: the event id. */
  jobId: string;
}

export interface ConsumerErrorInfo {
  jobId: string | undefined;
  attempt: number;
  /** `invalid`: the job is not a relay event (never retried); `handler`: the handler threw; `worker`: Redis or BullMQ. */
  kind: 'invalid' | 'handler' | 'worker';
  /** True when BullMQ will try the job again. */
  willRetry: boolean;
}

export interface ConsumerOptions {
  /** The subscriber name from SUBSCRIPTIONS_FILE; the queue is `events.<subscriber>`. */
  subscriber: string;
  /** A Redis URL (the consumer opens and closes its own connection) or an ioredis client with `maxRetriesPerRequest: null` (left open). */
  connection: { url: string } | Redis | Cluster;
  /** The relay's QUEUE_PREFIX. */
  prefix?: string;
  /** Set when the relay runs on Redis Cluster (REDIS_CLUSTER=1): queue names are hash-tagged. */
  cluster?: boolean;
  /** Events handled at once by this process. Default 1. */
  concurrency?: number;
  /**
   * Throw to have the event retried (the relay gives each event 10 attempts, backing off from 1 s);
   * throw BullMQ's `UnrecoverableError` to give up on it at once (it stays in the failed set).
   */
  handler: (event: RelayEvent, ctx: HandlerContext) => Promise<void>;
  /** Only these event types reach the handler; others are acknowledged and skipped. Default: all. */
  types?: readonly RelayEventType[];
  /** Told about invalid jobs, handler failures and connection errors. Default: a process warning. */
  onError?: (err: Error, info: ConsumerErrorInfo) => void;
}

export interface Consumer {
  /** Stops taking events and waits for the handlers in flight. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Processes a queue subscription (`events.<subscriber>`) of the relay. */
export function createConsumer(opts: ConsumerOptions): Consumer {
  const given = opts.connection;
  const owned = 'duplicate' in given ? undefined : new Redis(given.url, { maxRetriesPerRequest: null });
  const connection = owned ?? (given as Redis | Cluster);
  const onError = opts.onError ?? ((err: Error, info: ConsumerErrorInfo) => process.emitWarning(err, { code: `CBOT_RELAY_CONSUMER_${info.kind.toUpperCase()}` }));
  const types = opts.types ? new Set<string>(opts.types) : undefined;
  const name = `events.${opts.subscriber}`;

  const worker = new Worker(
    opts.cluster ? `{${name}}` : name,
    async (job: Job) => {
      const parsed = RelayEvent.safeParse(job.data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidEventError(`job ${job.id ?? '?'} is not a relay event: ${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`);
      }
      if (types && !types.has(parsed.data.type)) return;
      await opts.handler(parsed.data, { attempt: job.attemptsMade + 1, jobId: job.id ?? parsed.data.id });
    },
    { connection, prefix: opts.prefix ?? 'cbot-relay', concurrency: opts.concurrency ?? 1 },
  );
  worker.on('error', (err) => onError(err, { jobId: undefined, attempt: 0, kind: 'worker', willRetry: true }));
  worker.on('failed', (job, err) => {
    const invalid = err instanceof InvalidEventError;
    const attempt = job?.attemptsMade ?? 0;
    // A handler may throw BullMQ's UnrecoverableError to skip the remaining attempts.
    const willRetry = !(err instanceof UnrecoverableError) && job !== undefined && attempt < (job.opts.attempts ?? 1);
    onError(err, { jobId: job?.id, attempt, kind: invalid ? 'invalid' : 'handler', willRetry });
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.allSettled([worker.close()]);
      if (owned) await owned.quit().catch(() => owned.disconnect());
    })());
  return { close, [Symbol.asyncDispose]: close };
}

/** Not retried: a job that is not a relay event will not become one. */
class InvalidEventError extends UnrecoverableError {
  override name = 'InvalidEventError';
}
