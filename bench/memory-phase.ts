import type { Redis } from 'ioredis';
import { closedLoop } from './load.js';
import { API_KEY, PREFIX } from './processes.js';
import { templateMessage } from './payloads.js';
import type { LifecycleResult } from './memory-lifecycle.js';
import { breakdown, usedMemory } from './memory-lifecycle.js';

export interface MemoryResult {
  messages: number;
  usedBefore: number;
  usedAfter: number;
  bytesPerMessage: number;
  /** Where the bytes are, per message, by key kind (MEMORY USAGE over every key). */
  breakdown: Record<string, number>;
  acceptRps: number;
  /** The same message's later stages (sent, past HOT_RETENTION), measured through the store code. */
  lifecycle?: LifecycleResult;
}

/**
 * With no dispatcher running, `count` template messages (two parameters) go in through the ingress; the growth of Redis's
 * used_memory divided by the messages accepted is the cost of one queued message. The caller starts
 * from an empty Redis so nothing else moves the figure.
 */
export async function measureMemory(o: { redis: Redis; ingressUrl: string; count: number; connections: number; log: (l: string) => void }): Promise<MemoryResult> {
  const usedBefore = await usedMemory(o.redis);
  const r = await closedLoop({
    url: o.ingressUrl,
    path: '/v1/messages',
    headers: { authorization: `Bearer ${API_KEY}` },
    body: (i) => templateMessage(i),
    connections: o.connections,
    amount: o.count,
    timeoutS: 150,
  });
  const usedAfter = await usedMemory(o.redis);
  const bytesPerMessage = (usedAfter - usedBefore) / r.ok;
  const { parts } = await breakdown(o.redis, PREFIX, r.ok);
  o.log(`  ${r.ok} messages queued at ${Math.round(r.rps)} req/s; Redis used_memory +${((usedAfter - usedBefore) / 1048576).toFixed(1)} MiB = ${Math.round(bytesPerMessage)} B/message ${JSON.stringify(parts)}`);
  if (r.ok !== o.count) o.log(`  warning: ${o.count - r.ok} requests were not accepted ${JSON.stringify(r.statusCodes)}`);
  return { messages: r.ok, usedBefore, usedAfter, bytesPerMessage, breakdown: parts, acceptRps: r.rps };
}
