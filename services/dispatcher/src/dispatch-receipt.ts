import type { ReceiptLease } from '@cbot-relay/records';
import type { DispatchDeps } from './dispatch-message.js';
import { backoffMs } from './backoff.js';

/**
 * One attempt at a leased read receipt: mark the message read at the channel's CBOT and settle it,
 * with a send's retry policy. Retryable answers back off (DISPATCH_BACKOFF_*) and count towards
 * DISPATCH_MAX_ATTEMPTS; throttles do not count, and a sender-wide one pauses the channel as for a
 * send; a permanent refusal drops the receipt (logged and counted). A receipt has no order to keep and
 * marking a message read twice is harmless, so an answer lost on the way back is simply retried.
 */
export async function sendReceipt(deps: DispatchDeps, lease: ReceiptLease): Promise<void> {
  const { outbound, policy, log, metrics } = deps;
  const client = deps.clients?.get(lease.channel) ?? deps.client;
  const outcome = await client.markRead(lease.wamid, lease.typing);
  const count = (what: string) => metrics.readReceipts.inc({ channel: lease.channel, outcome: what });
  const now = deps.now();
  const at = { wamid: lease.wamid, channel: lease.channel };
  switch (outcome.kind) {
    case 'read': {
      await outbound.settleReceipt(lease, { kind: 'sent' });
      count('sent');
      return;
    }
    case 'permanent': {
      await outbound.settleReceipt(lease, { kind: 'failed', error: outcome.error });
      count('failed');
      log.warn({ ...at, httpStatus: outcome.httpStatus, code: outcome.error.code }, 'CBOT refused a read receipt; dropped');
      return;
    }
    case 'throttled': {
      const ms = outcome.retryAfterMs ?? policy.throttleDefaultMs;
      if (outcome.scope === 'sender') await outbound.pause(ms, lease.channel);
      await outbound.settleReceipt(lease, { kind: 'retry', untilMs: now + ms, counts: false, maxAttempts: policy.maxAttempts, error: outcome.error });
      count('throttled');
      log.warn({ ...at, ms, code: outcome.error.code, scope: outcome.scope }, 'CBOT throttled a read receipt; holding off');
      return;
    }
    case 'retryable': {
      const ms = Math.max(outcome.retryAfterMs ?? 0, backoffMs(lease.failures + 1, policy, deps.random));
      const error = { ...outcome.error, message: `gave up after ${policy.maxAttempts} attempts: ${outcome.error.message}` };
      const r = await outbound.settleReceipt(lease, { kind: 'retry', untilMs: now + ms, counts: true, maxAttempts: policy.maxAttempts, error });
      if (r.kind === 'failed') {
        count('failed');
        log.warn({ ...at, failures: r.failures }, 'read receipt dropped: attempts ran out');
        return;
      }
      count('retried');
      log.info({ ...at, failures: r.failures, ms, httpStatus: outcome.httpStatus }, 'read receipt failed; will retry');
      return;
    }
  }
}
