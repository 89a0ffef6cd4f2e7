import pRetry from 'p-retry';
import type { Logger } from '@cbot-relay/observability';
import type { Lease, Outbound } from '@cbot-relay/records';

export interface KeepWritingDeps {
  outbound: Pick<Outbound, 'renew'>;
  log: Logger;
  now: () => number;
  /** The dispatcher's lease length: each renewal moves the lease's end this far ahead. */
  leaseMs: number;
  /** Waits between tries (tests shorten them). */
  retry?: { minMs: number; maxMs: number };
}

/** The waits between tries of a write of CBOT's answer: 100 ms doubling to 2 s, ± jitter. */
export const WRITE_RETRY = { minMs: 100, maxMs: 2_000 };

/**
 * Writes what CBOT answered (`write`: a settle or retry step) until Redis takes it: Redis at
 * `maxmemory` (OOM under noeviction), a failover, a restart or a timeout only delay the write. A
 * known outcome given up would put the message back into the unknown-outcome path (a wait of
 * RECONCILE_WINDOW_S and, without a status, a second send).
 *
 * Retry settings (p-retry): `retries: Infinity`, waits `minMs` doubling to `maxMs`, each × 1–2 at
 * random (factor 2, randomize), capped at `maxMs`: 100–200, 200–400, 400–800, 800–1600 ms, then 2 s.
 * Worst case: unbounded while Redis refuses writes — after the first ~3 s one try every 2 s (plus the
 * try's own time) — ended only by the process's shutdown deadline (SHUTDOWN_TIMEOUT_MS). Every failure but the programming kind (a TypeError) is retried.
 *
 * Meanwhile the lease is kept: renewed at once on the first failure and every min(leaseMs / 3, 2 s)
 * while the write is pending (also a write that hangs rather than fails), by a script Redis runs
 * under `maxmemory` too, so no other dispatcher takes the recipient and sends the message again.
 * What is known is logged (relay id, wamid) on the first failure, so an outcome the process could
 * not write before being stopped is at least in its log; the message then goes through reconciliation.
 */
export async function keepWriting<T>(deps: KeepWritingDeps, lease: Lease, known: Record<string, unknown>, write: () => Promise<T>): Promise<T> {
  const { log, leaseMs } = deps;
  const { minMs, maxMs } = deps.retry ?? WRITE_RETRY;
  const renew = () => {
    deps.outbound.renew(lease, deps.now() + leaseMs).then(
      (held) => {
        if (!held) log.warn({ relayId: lease.id }, 'lease moved on while writing CBOT\'s answer; the write still records the truth about the message');
      },
      (err: unknown) => log.warn({ err, relayId: lease.id }, 'could not renew the lease (Redis unavailable); still writing'),
    );
  };
  const timer = setInterval(renew, Math.min(leaseMs / 3, 2_000));
  try {
    // The first try outside p-retry: nearly every write lands at once, and this path is per message.
    try {
      return await write();
    } catch (err) {
      if (err instanceof TypeError) throw err;
      renew();
      log.warn({ err, relayId: lease.id, ...known }, "Redis did not take CBOT's answer; retrying until it does, lease kept");
    }
    return await pRetry(write, {
      retries: Number.POSITIVE_INFINITY,
      factor: 2,
      minTimeout: minMs,
      maxTimeout: maxMs,
      randomize: true,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber % 20 === 0) {
          log.warn({ err: error, relayId: lease.id, tries: attemptNumber, ...known }, "CBOT's answer still not written");
        }
      },
    });
  } finally {
    clearInterval(timer);
  }
}
