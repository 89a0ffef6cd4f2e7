import type { CbotClient, SendOutcome } from '@cbot-relay/cbot-client';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { OutboundJob } from '@cbot-relay/queues';
import type { Attempt, MessageStore, SendGate } from '@cbot-relay/records';
import type { BackoffPolicy } from './backoff.js';
import { backoffMs } from './backoff.js';

export interface DispatchPolicy extends BackoffPolicy {
  maxAttempts: number;
  maxAgeMs: number;
  /** How long to hold off after a throttle answer without Retry-After. */
  throttleDefaultMs: number;
  /** Longest in-process wait for a rate-limit token before handing the job back. */
  maxGateWaitMs: number;
}

export interface DispatchDeps {
  store: MessageStore;
  gate: SendGate;
  client: CbotClient;
  policy: DispatchPolicy;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the lane should do next: move on, or hold this message at its head for `ms`. */
export type DispatchResult = { kind: 'done' } | { kind: 'hold'; ms: number };

const DONE: DispatchResult = { kind: 'done' };
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One attempt at one message. Safe to run again after a crash at any point: the record says whether
 * the message already went out, and an attempt that never recorded its end is counted as a possible
 * double send (the only case the contract allows one).
 */
export async function dispatchMessage(deps: DispatchDeps, job: OutboundJob): Promise<DispatchResult> {
  const { store, policy, log, metrics } = deps;
  const sleep = deps.sleep ?? defaultSleep;

  // The rate gate comes first: begin() stamps the message in flight, and a wait must not look like a lost send.
  for (;;) {
    const gate = await deps.gate.acquire();
    if (gate.kind === 'go') break;
    if (gate.paused || gate.ms > policy.maxGateWaitMs) return { kind: 'hold', ms: gate.ms };
    await sleep(gate.ms);
  }

  const begun = await store.begin(job.id, deps.now(), policy.maxAgeMs);
  switch (begun.kind) {
    case 'missing':
      log.warn({ relayId: job.id }, 'no record for queued message; skipping');
      return DONE;
    case 'done':
      return DONE;
    case 'expired':
      await store.finish(job.id, deps.now(), { outcome: 'expired' }, attempt(deps.now(), 'expired'));
      metrics.expired.inc();
      log.info({ relayId: job.id }, 'message expired before it could be sent');
      return DONE;
    case 'too-old':
      await fail(deps, job.id, { message: 'gave up: message older than the maximum age' }, 'max_age');
      return DONE;
    case 'no-body':
      await fail(deps, job.id, { message: 'gave up: the message body is no longer stored (RECORD_TTL_S passed)' }, 'no_body');
      return DONE;
    case 'go':
      break;
  }
  if (begun.ambiguous) {
    metrics.ambiguous.inc();
    log.warn({ relayId: job.id }, 'resending a message whose earlier attempt may have reached CBOT (answer lost)');
  }

  const started = deps.now();
  const outcome = await deps.client.sendMessage(begun.body);
  const ended = deps.now();
  metrics.sendLatency.observe((ended - started) / 1000);
  return settle(deps, job, outcome, started, begun.acceptedAtMs);
}

async function settle(deps: DispatchDeps, job: OutboundJob, outcome: SendOutcome, started: number, acceptedAtMs: number): Promise<DispatchResult> {
  const { store, policy, log, metrics } = deps;
  const now = deps.now();
  switch (outcome.kind) {
    case 'sent': {
      await store.finish(job.id, now, { outcome: 'sent', wamid: outcome.wamid }, attempt(started, 'sent', outcome.httpStatus));
      metrics.sent.inc();
      metrics.acceptToSend.observe(Math.max(0, now - acceptedAtMs) / 1000);
      return DONE;
    }
    case 'permanent': {
      const a = attempt(started, 'failed', outcome.httpStatus, outcome.error.message);
      await store.finish(job.id, now, { outcome: 'failed', error: outcome.error }, a);
      metrics.failed.inc({ reason: 'permanent' });
      log.info({ relayId: job.id, httpStatus: outcome.httpStatus, code: outcome.error.code }, 'CBOT refused the message');
      return DONE;
    }
    case 'throttled': {
      const ms = outcome.retryAfterMs ?? policy.throttleDefaultMs;
      await deps.gate.pause(ms);
      const a = attempt(started, 'throttled', outcome.httpStatus, outcome.error.message);
      await store.finish(job.id, now, { outcome: 'retry', countsAsFailure: false, keepInflight: false }, a);
      metrics.retried.inc({ kind: 'throttled' });
      log.warn({ relayId: job.id, ms, code: outcome.error.code }, 'CBOT throttled us; pausing sends');
      return { kind: 'hold', ms };
    }
    case 'retryable': {
      const a = attempt(started, 'retry', outcome.httpStatus, outcome.error.message);
      const { failures } = await store.finish(job.id, now, { outcome: 'retry', countsAsFailure: true, keepInflight: outcome.ambiguous }, a);
      if (failures >= policy.maxAttempts) {
        await fail(deps, job.id, { ...outcome.error, message: `gave up after ${failures} attempts: ${outcome.error.message}` }, 'attempts');
        return DONE;
      }
      metrics.retried.inc({ kind: 'retryable' });
      const ms = Math.max(outcome.retryAfterMs ?? 0, backoffMs(failures, policy, deps.random));
      log.info({ relayId: job.id, failures, ms, httpStatus: outcome.httpStatus }, 'send failed; will retry');
      return { kind: 'hold', ms };
    }
  }
}

async function fail(deps: DispatchDeps, id: string, error: { message: string }, reason: string): Promise<void> {
  await deps.store.finish(id, deps.now(), { outcome: 'failed', error });
  deps.metrics.failed.inc({ reason });
  deps.log.warn({ relayId: id, reason }, 'message failed');
}

function attempt(at: number, outcome: Attempt['outcome'], httpStatus?: number, error?: string): Attempt {
  const a: Attempt = { at: new Date(at).toISOString(), outcome };
  if (httpStatus !== undefined) a.httpStatus = httpStatus;
  if (error !== undefined) a.error = error;
  return a;
}
