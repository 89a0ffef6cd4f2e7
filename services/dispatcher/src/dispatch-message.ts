import { CODE_POLICY } from '@cbot-relay/cbot-client';
import type { CbotClient, SendOutcome } from '@cbot-relay/cbot-client';
import type { Logger, Metrics, SpanScope, Tracing } from '@cbot-relay/observability';
import type { Attempt, Lease, Outbound } from '@cbot-relay/records';
import type { BackoffPolicy } from './backoff.js';
import { backoffMs } from './backoff.js';
import type { KeepWritingDeps } from './keep-writing.js';
import { keepWriting } from './keep-writing.js';

export interface DispatchPolicy extends BackoffPolicy {
  maxAttempts: number;
  maxAgeMs: number;
  /** How long to hold off after a throttle answer without Retry-After. */
  throttleDefaultMs: number;
}

export interface DispatchDeps {
  outbound: Outbound;
  /** The client of channel `default`, and of any channel `clients` does not list. */
  client: CbotClient;
  /** One client per channel (its base URL, API flavour and key), by channel id. */
  clients?: ReadonlyMap<string, CbotClient>;
  policy: DispatchPolicy;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  random?: () => number;
  /** When on, each attempt is a CLIENT span in the trace of the request that accepted the message. */
  tracing?: Tracing;
  /** Waits between tries of a write of CBOT's answer (keep-writing.ts); tests shorten them. */
  writeRetry?: { minMs: number; maxMs: number };
}

/** What writing CBOT's answer needs beyond DispatchDeps: the lease length (renewals). */
export type WriteOptions = Pick<KeepWritingDeps, 'leaseMs'>;

/**
 * One attempt at a leased recipient's head message: POST it to CBOT and record how it ended. Safe to
 * run again after a crash at any point: the claim stamped the record in flight, so a re-run after a
 * lost answer is counted as a possible double send (the only case the contract allows one), and a
 * settle from a worker whose lease moved on records the truth about the message but leaves the
 * recipient's queue to the current holder.
 */
export async function sendLeased(deps: DispatchDeps, lease: Lease, sendBy: number, write: WriteOptions): Promise<void> {
  const tracing = deps.tracing;
  if (!tracing?.enabled) return attemptSend(deps, lease, sendBy, write);
  // One small read per attempt, only with tracing on: the accept stored the request's context.
  const parent = await deps.outbound.traceparent(lease.id).catch(() => undefined);
  const attributes = { 'cbot_relay.message_id': lease.id, 'cbot_relay.attempt': lease.failures + 1, 'cbot_relay.ambiguous': lease.ambiguous };
  return tracing.span('cbot send', { kind: 'client', parent, attributes }, (span) => attemptSend(deps, lease, sendBy, write, span));
}

async function attemptSend(deps: DispatchDeps, lease: Lease, sendBy: number, write: WriteOptions, span?: SpanScope): Promise<void> {
  const { log, metrics } = deps;
  if (deps.now() > sendBy) {
    // This process stalled between the claim and the send: the lease may expire while CBOT answers,
    // and another worker could then send this recipient's next message first. Hand it back unsent.
    await deps.outbound.release(lease, deps.now());
    span?.setAttributes({ 'cbot_relay.outcome': 'lease_released' });
    metrics.retried.inc({ kind: 'lease_released' });
    log.warn({ relayId: lease.id }, 'too long between claim and send; lease handed back unsent');
    return;
  }
  if (lease.ambiguous) {
    metrics.ambiguous.inc();
    metrics.reconciled.inc({ outcome: 'resent' });
    log.warn({ relayId: lease.id }, 'resending a message whose earlier attempt may have reached CBOT (answer lost, no status identified it within RECONCILE_WINDOW_S)');
  }
  const started = deps.now();
  const client = deps.clients?.get(lease.channel) ?? deps.client;
  // On Cloud channels the relay id rides along as biz_opaque_callback_data: every status returns it.
  const outcome = await client.sendMessage(lease.body, { opaque: lease.id });
  metrics.sendLatency.observe((deps.now() - started) / 1000);
  metrics.cbotAnswers.inc({ outcome: outcome.kind === 'throttled' ? `throttled_${outcome.scope}` : outcome.kind, code: codeLabel(outcome), channel: lease.channel });
  if (span) traceOutcome(span, outcome);
  await settle(deps, lease, outcome, started, write);
}

/** What CBOT answered, on the attempt's span: HTTP status, WhatsApp code, how the relay took it. */
function traceOutcome(span: SpanScope, outcome: SendOutcome): void {
  const kind = outcome.kind === 'throttled' ? `throttled_${outcome.scope}` : outcome.kind;
  span.setAttributes({
    'cbot_relay.outcome': kind,
    'http.response.status_code': outcome.httpStatus,
    'whatsapp.error.code': outcome.kind === 'sent' ? undefined : outcome.error.code,
  });
  if (outcome.kind !== 'sent') span.fail(kind);
}

/** The WhatsApp code as a metric label: only the policy's codes by name, so the label set stays bounded. */
function codeLabel(outcome: SendOutcome): string {
  if (outcome.kind === 'sent') return 'none';
  const code = outcome.error.code;
  if (code === undefined) return 'none';
  return CODE_POLICY.has(code) ? String(code) : 'other';
}

/** CBOT answered: record it. Every write is retried until Redis takes it, the lease kept meanwhile (keep-writing.ts). */
async function settle(deps: DispatchDeps, lease: Lease, outcome: SendOutcome, started: number, write: WriteOptions): Promise<void> {
  const { outbound, policy, log, metrics } = deps;
  const now = deps.now();
  const known = { outcome: outcome.kind, ...(outcome.kind === 'sent' ? { wamid: outcome.wamid } : {}) };
  const keep = <T>(step: () => Promise<T>) =>
    keepWriting({ outbound, log, now: deps.now, ...write, ...(deps.writeRetry ? { retry: deps.writeRetry } : {}) }, lease, known, step);
  switch (outcome.kind) {
    case 'sent': {
      await keep(() => outbound.settle(lease, now, { kind: 'sent', wamid: outcome.wamid }, attempt(started, 'sent', outcome.httpStatus)));
      metrics.sent.inc();
      metrics.acceptToSend.observe(Math.max(0, now - lease.acceptedAtMs) / 1000);
      return;
    }
    case 'permanent': {
      const a = attempt(started, 'failed', outcome.httpStatus, outcome.error.message);
      await keep(() => outbound.settle(lease, now, { kind: 'failed', error: outcome.error }, a));
      metrics.failed.inc({ reason: 'permanent' });
      log.info({ relayId: lease.id, httpStatus: outcome.httpStatus, code: outcome.error.code }, 'CBOT refused the message');
      return;
    }
    case 'throttled': {
      const ms = outcome.retryAfterMs ?? policy.throttleDefaultMs;
      // A sender-wide throttle holds every dispatcher on this channel (number); a pair rate limit only this recipient.
      if (outcome.scope === 'sender') await keep(() => outbound.pause(ms, lease.channel));
      const a = attempt(started, 'throttled', outcome.httpStatus, outcome.error.message);
      await keep(() => outbound.retry(lease, now, { untilMs: now + ms, countsAsFailure: false, keepInflight: false, maxAttempts: policy.maxAttempts, error: outcome.error }, a));
      metrics.retried.inc({ kind: outcome.scope === 'sender' ? 'throttled' : 'throttled_recipient' });
      log.warn({ relayId: lease.id, channel: lease.channel, ms, code: outcome.error.code, scope: outcome.scope }, 'CBOT throttled us; holding off');
      return;
    }
    case 'retryable': {
      const a = attempt(started, 'retry', outcome.httpStatus, outcome.error.message);
      // The backoff for the failure this attempt adds; the script decides whether attempts ran out.
      const ms = Math.max(outcome.retryAfterMs ?? 0, backoffMs(lease.failures + 1, policy, deps.random));
      const error = { ...outcome.error, message: `gave up after ${policy.maxAttempts} attempts: ${outcome.error.message}` };
      const r = await keep(() => outbound.retry(lease, now, { untilMs: now + ms, countsAsFailure: true, keepInflight: outcome.ambiguous, maxAttempts: policy.maxAttempts, error }, a));
      if (r.kind === 'failed') {
        metrics.failed.inc({ reason: 'attempts' });
        log.warn({ relayId: lease.id, failures: r.failures }, 'message failed: attempts ran out');
        return;
      }
      metrics.retried.inc({ kind: 'retryable' });
      log.info({ relayId: lease.id, failures: r.failures, ms, httpStatus: outcome.httpStatus }, 'send failed; will retry');
      return;
    }
  }
}

function attempt(at: number, outcome: Attempt['outcome'], httpStatus?: number, error?: string): Attempt {
  const a: Attempt = { at: new Date(at).toISOString(), outcome };
  if (httpStatus !== undefined) a.httpStatus = httpStatus;
  if (error !== undefined) a.error = error;
  return a;
}
