import { CODE_POLICY } from '@cbot-relay/cbot-client';
import type { CbotClient, SendOutcome } from '@cbot-relay/cbot-client';
import { channelEvent } from '@cbot-relay/messages';
import type { RelayEvent } from '@cbot-relay/messages';
import type { Logger, Metrics, SpanScope, Tracing } from '@cbot-relay/observability';
import type { Attempt, GateChange, Lease, Outbound } from '@cbot-relay/records';
import type { BackoffPolicy } from './backoff.js';
import { backoffMs } from './backoff.js';
import type { KeepWritingDeps } from './keep-writing.js';
import { keepWriting } from './keep-writing.js';

export interface DispatchPolicy extends BackoffPolicy {
  maxAttempts: number;
  maxAgeMs: number;
  /** How long to hold off after a throttle answer without Retry-After. */
  throttleDefaultMs: number;
  /** QUALITY_PAUSE_S in ms: the first pause after a 131048 (doubling on a repeat within 24 h). */
  qualityPauseMs?: number;
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
  /** Hands a channel.paused / channel.stopped event to the fanout (RelayEvents); absent: none is emitted. */
  emit?: (event: RelayEvent, nowMs: number) => Promise<void>;
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
  const outcome = await client.sendMessage(lease.fallback === 'none' ? lease.body : outboundBody(lease), { opaque: lease.id });
  metrics.sendLatency.observe((deps.now() - started) / 1000);
  metrics.cbotAnswers.inc({ outcome: outcomeLabel(outcome), code: codeLabel(outcome), channel: lease.channel });
  if (span) traceOutcome(span, outcome);
  await settle(deps, lease, outcome, started, write);
}

/** What CBOT answered, on the attempt's span: HTTP status, WhatsApp code, how the relay took it. */
function traceOutcome(span: SpanScope, outcome: SendOutcome): void {
  const kind = outcomeLabel(outcome);
  span.setAttributes({
    'cbot_relay.outcome': kind,
    'http.response.status_code': outcome.httpStatus,
    'whatsapp.error.code': outcome.kind === 'sent' ? undefined : outcome.error.code,
  });
  if (outcome.kind !== 'sent') span.fail(kind);
}

function outcomeLabel(outcome: SendOutcome): string {
  if (outcome.kind === 'throttled') return `throttled_${outcome.scope}`;
  if (outcome.kind === 'restricted') return `restricted_${outcome.action}`;
  return outcome.kind;
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
      if (lease.fallback === 'has' && outcome.error.code !== undefined && WINDOW_REFUSALS.has(outcome.error.code)) {
        // CBOT refused the free-form message for its window: its fallback template goes next, from the
        // recipient's head (held until now: the next claim takes it), once.
        await keep(() => outbound.retry(lease, now, { untilMs: now, countsAsFailure: false, keepInflight: false, maxAttempts: policy.maxAttempts, error: outcome.error, fallback: true }, a));
        metrics.retried.inc({ kind: 'fallback' });
        log.info({ relayId: lease.id, code: outcome.error.code }, 'CBOT refused the message for its customer-service window; sending its fallback template');
        return;
      }
      await keep(() => outbound.settle(lease, now, { kind: 'failed', error: outcome.error }, a));
      metrics.failed.inc({ reason: 'permanent' });
      log.info({ relayId: lease.id, httpStatus: outcome.httpStatus, code: outcome.error.code }, 'CBOT refused the message');
      return;
    }
    case 'throttled': {
      const a = attempt(started, 'throttled', outcome.httpStatus, outcome.error.message);
      const held = { countsAsFailure: false, keepInflight: false, maxAttempts: policy.maxAttempts, error: outcome.error };
      if (outcome.scope === 'sender') {
        // A throughput throttle pauses the channel (number) in every dispatcher: Retry-After, else 1 s
        // doubling to 60 s. The message keeps its place at its recipient's head, ready behind the pause.
        const change: GateChange = { action: 'throughput', ...codeOf(outcome), ...retryAfterOf(outcome) };
        const state = await changeGate(deps, lease.channel, change, now);
        await keep(() => outbound.retry(lease, now, { ...held, untilMs: state.untilMs ?? now }, a));
        metrics.retried.inc({ kind: 'throttled' });
        log.warn({ relayId: lease.id, channel: lease.channel, until: state.untilMs, code: outcome.error.code }, 'CBOT throttled the channel; pausing it');
        return;
      }
      // 131056: only this recipient waits, 6 s doubling to 5 min (Retry-After wins), not an attempt.
      const r = await keep(() => outbound.retry(lease, now, { ...held, untilMs: now + (outcome.retryAfterMs ?? policy.throttleDefaultMs), pairRateLimit: true, ...retryAfterOf(outcome) }, a));
      metrics.retried.inc({ kind: 'throttled_recipient' });
      log.warn({ relayId: lease.id, channel: lease.channel, ms: r.untilMs === undefined ? undefined : r.untilMs - now, code: outcome.error.code }, 'CBOT throttled this recipient (pair rate limit); holding it');
      return;
    }
    case 'restricted': {
      // 131048 pauses the channel for QUALITY_PAUSE_S (doubling); 368 / 131031 stop it until an operator
      // resumes it. The message is not failed and spends no attempt: it waits at its recipient's head.
      const a = attempt(started, 'throttled', outcome.httpStatus, outcome.error.message);
      const change: GateChange = outcome.action === 'stop' ? { action: 'stop', ...codeOf(outcome) } : { action: 'quality', ...codeOf(outcome), ...retryAfterOf(outcome) };
      const state = await changeGate(deps, lease.channel, change, now);
      await keep(() => outbound.retry(lease, now, { untilMs: now, countsAsFailure: false, keepInflight: false, maxAttempts: policy.maxAttempts, error: outcome.error }, a));
      metrics.retried.inc({ kind: `restricted_${outcome.action}` });
      log.error({ relayId: lease.id, channel: lease.channel, code: outcome.error.code, state }, outcome.action === 'stop' ? 'WhatsApp restricted the account; channel stopped until an operator resumes it' : 'WhatsApp restricted the number for its quality; channel paused');
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

/** WhatsApp's "outside the customer-service window" codes: 131047 (Cloud), 470 (On-Premises). */
export const WINDOW_REFUSALS: ReadonlySet<number> = new Set([131047, 470]);

/**
 * The body CBOT gets for a message that carries a `fallback`: the message without it, or (`use`) the
 * fallback template to the same recipient, with the message's envelope fields.
 */
export function outboundBody(lease: Pick<Lease, 'body' | 'fallback'>): string {
  const { fallback, ...message } = JSON.parse(lease.body) as Record<string, unknown> & { fallback?: { template?: unknown } };
  if (lease.fallback !== 'use' || fallback === undefined) return JSON.stringify(message);
  const out: Record<string, unknown> = {};
  for (const k of ['messaging_product', 'recipient_type', 'to']) if (Object.hasOwn(message, k)) out[k] = message[k];
  out.type = 'template';
  out.template = fallback.template;
  return JSON.stringify(out);
}

function codeOf(outcome: { error: { code?: number } }): { code?: number } {
  return outcome.error.code === undefined ? {} : { code: outcome.error.code };
}

function retryAfterOf(outcome: { retryAfterMs?: number }): { retryAfterMs?: number } {
  return outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs };
}

/** Changes the channel's gate and, when it moved, tells subscribers (channel.paused / channel.stopped). */
async function changeGate(deps: DispatchDeps, channel: string, change: GateChange, now: number): Promise<{ untilMs?: number }> {
  const { changed, state } = await deps.outbound.changeGate(channel, change, now, deps.policy.qualityPauseMs ?? 900_000);
  if (changed && deps.emit) {
    // The gate holds whatever becomes of the event; a lost event still shows in GET /v1/channels and the metric.
    await deps.emit(channelEvent(channel, state, now), now).catch((err: unknown) => deps.log.error({ err, channel }, 'channel event not emitted'));
  }
  return state;
}

function attempt(at: number, outcome: Attempt['outcome'], httpStatus?: number, error?: string): Attempt {
  const a: Attempt = { at: new Date(at).toISOString(), outcome };
  if (httpStatus !== undefined) a.httpStatus = httpStatus;
  if (error !== undefined) a.error = error;
  return a;
}
