import { setTimeout as sleep } from 'node:timers/promises';
import { expectedEventKeys } from './accounting.js';
import type { Cluster } from './cluster.js';
import type { LoadDriver } from './load-driver.js';
import type { RelayQueues } from './relay-queues.js';

export interface DrainResult {
  drained: boolean;
  ms: number;
  /** What was still missing when the timeout hit. */
  pending: string[];
}

/**
 * Waits, bounded, until the relay has nothing left to do: CBOT has every accepted message, the
 * simulator has no callback left to retry, both subscribers have every expected event, and no relay
 * queue holds an open job (and whatever `extra` still names, e.g. scheduled messages not yet at CBOT).
 * Then it waits `quietMs` more so a late duplicate would still be counted.
 */
export async function drain(c: Cluster, load: LoadDriver, queues: RelayQueues, timeoutMs: number, quietMs = 2_000, extra: () => string[] = () => []): Promise<DrainResult> {
  const started = Date.now();
  let pending: string[] = [];
  while (Date.now() - started < timeoutMs) {
    pending = [...(await whatIsPending(c, load, queues)), ...extra()];
    if (pending.length === 0) {
      await sleep(quietMs);
      return { drained: true, ms: Date.now() - started, pending };
    }
    await sleep(500);
  }
  return { drained: false, ms: Date.now() - started, pending };
}

async function whatIsPending(c: Cluster, load: LoadDriver, queues: RelayQueues): Promise<string[]> {
  const out: string[] = [];
  const got = new Set(c.sim.received().map((m) => (m.body.text as { body?: unknown } | undefined)?.body));
  const missing = load.accepted.flat().filter((a) => !got.has(a.text)).length;
  if (missing > 0) out.push(`${missing} accepted messages not at CBOT yet`);
  const retrying = c.sim.callbacks().filter((cb) => cb.deliveries.some((d) => d.state === 'pending')).length;
  if (retrying > 0) out.push(`${retrying} callbacks still being delivered by CBOT`);
  const expected = expectedEventKeys(c.sim);
  const atQueue = new Set(c.subscriber.keyOf.values());
  const atHttp = new Set(c.receiver.keyOf.values());
  const q = [...expected].filter((k) => !atQueue.has(k)).length;
  const h = [...expected].filter((k) => !atHttp.has(k)).length;
  if (q > 0) out.push(`${q} events not at the queue subscriber yet`);
  if (h > 0) out.push(`${h} events not at the HTTP subscriber yet`);
  try {
    const counts = await queues.counts();
    if (counts.open > 0) out.push(`${counts.open} open relay jobs ${JSON.stringify(counts.byQueue)}`);
  } catch (err) {
    out.push(`relay queues unreadable: ${String(err)}`);
  }
  return out;
}
