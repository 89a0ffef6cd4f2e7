import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface PacedSend {
  i: number;
  /** Wall-clock ms (sub-ms precision) when the request was handed to the socket pool. */
  sentAt: number;
  /** Wall-clock ms when the 202 arrived; undefined for a failure. */
  ackAt?: number;
  status?: number;
}

/** Wall clock with sub-millisecond precision, comparable to another process's Date.now() on this host. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * Open-loop load: request i leaves at start + i/rate whatever the answers do (no coordinated
 * omission), over a keep-alive pool big enough that the pool itself never queues at this rate.
 */
export async function pacedLoad(o: {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: (i: number) => string;
  ratePerS: number;
  durationS: number;
  connections: number;
}): Promise<PacedSend[]> {
  const pool = new Pool(o.url, { connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.round(o.ratePerS * o.durationS);
  const sends: PacedSend[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / o.ratePerS;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const s: PacedSend = { i, sentAt: wallNow() };
      sends.push(s);
      inflight.push(
        pool
          .request({ method: 'POST', path: o.path, headers: { 'content-type': 'application/json', ...o.headers }, body: o.body(i), headersTimeout: 10_000, bodyTimeout: 10_000 })
          .then(async (res) => {
            s.ackAt = wallNow();
            s.status = res.statusCode;
            await res.body.dump();
          })
          .catch(() => undefined),
      );
    }
    await Promise.all(inflight);
  } finally {
    await pool.close();
  }
  return sends;
}
