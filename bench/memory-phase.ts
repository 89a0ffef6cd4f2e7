import type { Redis } from 'ioredis';
import { closedLoop } from './load.js';
import { API_KEY, PREFIX } from './processes.js';
import { textMessage } from './payloads.js';

export interface MemoryResult {
  messages: number;
  usedBefore: number;
  usedAfter: number;
  bytesPerMessage: number;
  /** Where the bytes are, per message, by key kind (MEMORY USAGE over every key). */
  breakdown: Record<string, number>;
  acceptRps: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m?.[1]) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** Kinds of keys the relay writes for an accepted message, by key shape (internal names, not a contract). */
function kindOf(key: string): string {
  const rest = key.slice(PREFIX.length + 1);
  if (rest.startsWith('msg:')) return 'record hash';
  if (rest.startsWith('body:')) return 'body string';
  if (rest === 'open' || rest === 'backlog') return 'backlog index';
  if (rest.startsWith('ix:')) return 'list indexes';
  const lane = /^out\.\d+:(.*)$/.exec(rest);
  if (!lane) return 'other relay keys';
  const part = lane[1] ?? '';
  if (part === 'events') return 'lane event streams';
  if (part === 'wait') return 'lane wait lists';
  if (part === 'meta' || part === 'id') return 'lane meta';
  return 'BullMQ job hash';
}

async function breakdown(redis: Redis, messages: number): Promise<Record<string, number>> {
  const bytes: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 2000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0');
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const kind = kindOf(k);
      bytes[kind] = (bytes[kind] ?? 0) + Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');
  return Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, Math.round(v / messages)]));
}

/**
 * With no dispatcher running, `count` messages go in through the ingress; the growth of Redis's
 * used_memory divided by the messages accepted is the cost of one queued message. The caller starts
 * from an empty Redis so nothing else moves the figure.
 */
export async function measureMemory(o: { redis: Redis; ingressUrl: string; count: number; connections: number; log: (l: string) => void }): Promise<MemoryResult> {
  const usedBefore = await usedMemory(o.redis);
  const r = await closedLoop({
    url: o.ingressUrl,
    path: '/v1/messages',
    headers: { authorization: `Bearer ${API_KEY}` },
    body: (i) => textMessage(i, `M-${i}`),
    connections: o.connections,
    amount: o.count,
    timeoutS: 150,
  });
  const usedAfter = await usedMemory(o.redis);
  const bytesPerMessage = (usedAfter - usedBefore) / r.ok;
  const parts = await breakdown(o.redis, r.ok);
  o.log(`  ${r.ok} messages queued at ${Math.round(r.rps)} req/s; Redis used_memory +${((usedAfter - usedBefore) / 1048576).toFixed(1)} MiB = ${Math.round(bytesPerMessage)} B/message ${JSON.stringify(parts)}`);
  if (r.ok !== o.count) o.log(`  warning: ${o.count - r.ok} requests were not accepted ${JSON.stringify(r.statusCodes)}`);
  return { messages: r.ok, usedBefore, usedAfter, bytesPerMessage, breakdown: parts, acceptRps: r.rps };
}
