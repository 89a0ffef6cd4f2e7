import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { OpsServer } from './ops-server.js';

describe('OpsServer', () => {
  it('serves /healthz, /readyz and /metrics without credentials, and nothing else', async () => {
    const metrics = createMetrics();
    metrics.sent.inc();
    let ok = true;
    await using ops = await OpsServer.listen({
      port: 0,
      host: '127.0.0.1',
      metrics,
      ready: async () => ({ ok, checks: { redis: ok } }),
      log: createLogger({ level: 'silent' }),
    });
    const base = `http://127.0.0.1:${ops.port}`;
    expect(ops.port).toBeGreaterThan(0);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    ok = false;
    const notReady = await fetch(`${base}/readyz?verbose=1`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { redis: false } });
    const scraped = await fetch(`${base}/metrics`);
    expect(scraped.headers.get('content-type')).toContain('text/plain');
    expect(await scraped.text()).toMatch(/relay_messages_sent_total 1/);
    expect((await fetch(`${base}/v1/messages`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('answers /readyz 503 within readyTimeoutMs when the readiness check hangs', async () => {
    await using ops = await OpsServer.listen({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics(),
      ready: () => new Promise(() => undefined),
      log: createLogger({ level: 'silent' }),
      readyTimeoutMs: 100,
    });
    const res = await fetch(`http://127.0.0.1:${ops.port}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { ready: 'timeout' } });
  });
});
