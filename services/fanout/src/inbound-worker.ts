import { UnrecoverableError, Worker } from 'bullmq';
import type { Job, Telemetry } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { InboundJob, QueueNames, queueNameFor } from '@cbot-relay/queues';
import { fanOutCallback } from './fan-out-callback.js';
import type { FanOutDeps } from './fan-out-callback.js';

export interface InboundWorkerOptions {
  connection: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  concurrency: number;
  /** BullMQ's telemetry (tracing on): each callback is processed in the trace of its request. */
  telemetry?: Telemetry | undefined;
  deps: FanOutDeps;
}

/** Consumes `inbound` (one job per CBOT callback, added by the ingress). */
export function startInboundWorker(opts: InboundWorkerOptions): Worker {
  const { deps } = opts;
  const worker = new Worker(
    queueNameFor(QueueNames.inbound, opts.cluster),
    async (job: Job) => {
      const parsed = InboundJob.safeParse(job.data);
      if (!parsed.success || Number.isNaN(new Date(parsed.data.receivedAt).getTime())) {
        throw new UnrecoverableError('invalid inbound job payload');
      }
      const result = await fanOutCallback(parsed.data, deps);
      deps.log.debug({ jobId: job.id, ...result }, 'callback fanned out');
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      // A callback fans out in milliseconds and BullMQ renews the lock every lockDuration / 2 while it
      // runs, so a short lock only shortens how long a killed fanout's jobs wait to be taken over
      // (at most lockDuration + stalledInterval: 20 s instead of BullMQ's 30 + 30 s). Fanout is
      // idempotent, so a job taken over from a worker that was merely slow does no harm.
      lockDuration: 15_000,
      stalledInterval: 5_000,
      // A lock that lapses (a Redis blip, a stalled event loop) must not fail the callback for good:
      // BullMQ fails a job outright once it has stalled more than maxStalledCount times (default 1).
      maxStalledCount: 10,
      ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
    },
  );
  worker.on('error', (err) => deps.log.error({ err }, 'inbound worker error'));
  worker.on('failed', (job, err) => {
    const final = job === undefined || err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.log.error({ err, jobId: job?.id, attemptsMade: job?.attemptsMade, final }, 'inbound callback failed');
  });
  return worker;
}
