import { Router } from 'express';
import { readinessWithin } from '@cbot-relay/observability';
import type { Metrics } from '@cbot-relay/observability';
import type { KeyRing } from './auth.js';
import { caller } from './send-routes.js';

export interface OpsDeps {
  metrics: Metrics;
  /** RELAY_ADMIN_KEYS: /metrics on the public port needs one (OPS_PORT serves it openly). */
  adminKeys: KeyRing;
  /** Redis reachable and every local worker running. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, boolean | string> }>;
  /** /readyz is 503 when `ready` has not answered within this (default 2,000 ms). */
  readyTimeoutMs?: number;
}

/** /healthz and /readyz open to probes; /metrics, which names callers and volumes, needs an admin key here. */
export function opsRoutes(deps: OpsDeps): Router {
  const r = Router();
  const ready = readinessWithin(deps.ready, deps.readyTimeoutMs ?? 2_000);
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const { ok, checks } = await ready();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  r.get('/metrics', async (req, res) => {
    caller(deps.adminKeys, req.headers, 'RELAY_ADMIN_KEYS');
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return r;
}
