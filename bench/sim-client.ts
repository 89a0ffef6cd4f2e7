import { request } from 'undici';

/** What GET /_sim/received answers (the simulator's only counter endpoint; it also lists messages). */
export interface SimReceived {
  messages: { body: unknown; receivedAt: string }[];
  attempts: number;
  accepted: number;
  failures: Record<string, number>;
}

async function call<T>(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(new URL(path, base), {
    method,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`simulator ${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

export const simReceived = (base: string) => call<SimReceived>(base, 'GET', '_sim/received');

export async function simAccepted(base: string): Promise<number> {
  return (await simReceived(base)).accepted;
}

export async function setSimLatency(base: string, latencyMs: number): Promise<void> {
  await call(base, 'POST', '_sim/knobs', { latencyMs });
}

export async function resetSim(base: string): Promise<void> {
  await call(base, 'POST', '_sim/reset', {});
}
