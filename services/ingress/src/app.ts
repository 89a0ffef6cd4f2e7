import { randomUUID } from 'node:crypto';
import express from 'express';
import helmet from 'helmet';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { AdminRoutesDeps } from './admin-routes.js';
import { adminRoutes } from './admin-routes.js';
import { HttpError, errorMiddleware, sendError } from './http-error.js';
import type { OpsDeps } from './ops-routes.js';
import { opsRoutes } from './ops-routes.js';
import type { SendRoutesDeps } from './send-routes.js';
import { sendRoutes } from './send-routes.js';
import type { WebhookDeps } from './webhook-route.js';
import { webhookRoute } from './webhook-route.js';

export interface IngressAppDeps {
  send: SendRoutesDeps;
  admin: AdminRoutesDeps;
  webhook: WebhookDeps;
  ops: OpsDeps;
  log: Logger;
  metrics: Metrics;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * helmet decides the security headers; they do not depend on the request here (a JSON API), so they
 * are computed once and set per response without running helmet's middleware chain each time.
 */
function staticSecurityHeaders(): express.RequestHandler {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"] } } })(
    { headers: {} } as never,
    recorder as never,
    () => undefined,
  );
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

export function createIngressApp(deps: IngressAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(staticSecurityHeaders());
  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    res.setHeader('Cache-Control', 'no-store');
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.log.debug({ reqId: id, method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  });
  app.use(opsRoutes(deps.ops));
  app.use(sendRoutes(deps.send));
  app.use(adminRoutes(deps.admin));
  app.use(webhookRoute(deps.webhook));
  app.use((_req, res) => sendError(res, new HttpError(404, 'not_found', 'no such route')));
  app.use(errorMiddleware(deps.log, (route, status) => deps.metrics.rejected.inc({ route, code: String(status) })));
  return app;
}
