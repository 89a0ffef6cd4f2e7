import type { Redis } from 'ioredis';
import { closedLoop } from './load.js';
import { API_KEY, PREFIX } from './processes.js';
import { textMessage } from './payloads.js';

export interface CancelResult {
  /** Messages accepted with the tag (no dispatcher runs, so all of them are still queued). */
  messages: number;
  acceptRps: number;
  /** What POST /v1/messages/cancel answered. */
  canceled: number;
  /** From the request to its answer, ms. */
  cancelMs: number;
  /** Open messages left after the answer (those of the tag must be 0). */
  backlogAfter: number;
  /** CPU Redis spent during the cancel (INFO cpu, user + sys), ms: what the cancel costs on a quiet machine. */
  redisCpuMs: number;
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (v('used_cpu_user') + v('used_cpu_sys')) * 1000;
}

const TAG = 'bench-campaign';

/**
 * A campaign of `count` messages with one X-Relay-Tag goes in through the ingress with no dispatcher
 * running (they all wait), then `POST /v1/messages/cancel {"tag"}` is timed from request to answer.
 * The target: 100,000 messages within 10 s. The caller starts from an empty Redis.
 */
export async function measureCancel(o: { redis: Redis; ingressUrl: string; count: number; connections: number; log: (l: string) => void }): Promise<CancelResult> {
  const headers = { authorization: `Bearer ${API_KEY}` };
  const r = await closedLoop({
    url: o.ingressUrl,
    path: '/v1/messages',
    headers: { ...headers, 'x-relay-tag': TAG },
    body: (i) => textMessage(i, `C-${i}`),
    connections: o.connections,
    amount: o.count,
    timeoutS: 150,
  });
  if (r.ok !== o.count) o.log(`  warning: ${o.count - r.ok} requests were not accepted ${JSON.stringify(r.statusCodes)}`);
  const cpuBefore = await redisCpuMs(o.redis);
  const started = performance.now();
  const res = await fetch(`${o.ingressUrl}/v1/messages/cancel`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ tag: TAG }),
    signal: AbortSignal.timeout(120_000),
  });
  const cancelMs = performance.now() - started;
  const redisCpu = (await redisCpuMs(o.redis)) - cpuBefore;
  if (res.status !== 200) throw new Error(`POST /v1/messages/cancel answered ${res.status}: ${await res.text()}`);
  const { canceled } = (await res.json()) as { canceled: number };
  const backlogAfter = await o.redis.zcard(`${PREFIX}:open`);
  o.log(`  ${r.ok} tagged messages queued at ${Math.round(r.rps)} req/s; cancel by tag: ${canceled} canceled in ${(cancelMs / 1000).toFixed(2)} s (Redis CPU ${(redisCpu / 1000).toFixed(2)} s); backlog after: ${backlogAfter}`);
  return { messages: r.ok, acceptRps: r.rps, canceled, cancelMs, backlogAfter, redisCpuMs: redisCpu };
}
