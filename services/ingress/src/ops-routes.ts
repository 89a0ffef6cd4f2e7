import { Router } from 'express';
import type { Metrics } from '@cbot-relay/observability';

export interface OpsDeps {
  metrics: Metrics;
  /** Redis reachable and every local worker running. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, boolean> }>;
}

export function opsRoutes(deps: OpsDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const { ok, checks } = await deps.ready();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return r;
}
