import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import type { Router } from 'express';
import helmet from 'helmet';
import { NOOP_TRACING } from '@cbot-relay/observability';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import type { AdminRoutesDeps } from './admin-routes.js';
import { adminRoutes } from './admin-routes.js';
import { requireSingleAuthorization } from './auth.js';
import { batchRoute } from './batch-route.js';
import { streamRoute } from './stream-route.js';
import { cancelRoutes } from './cancel-routes.js';
import { BodyBudget } from './body-budget.js';
import { docsRoutes } from './docs-routes.js';
import { hotRoutes } from './hot-routes.js';
import { HttpError, errorMiddleware, sendError } from './http-error.js';
import { listRoute } from './list-route.js';
import type { MediaRoutesDeps } from './media-routes.js';
import { mediaRoutes } from './media-routes.js';
import type { OpsDeps } from './ops-routes.js';
import { opsRoutes } from './ops-routes.js';
import type { RecipientRoutesDeps } from './recipients-routes.js';
import { recipientRoutes } from './recipients-routes.js';
import { readRoute } from './read-route.js';
import type { SendRoutesDeps } from './send-routes.js';
import type { ChannelRoutesDeps } from './channel-routes.js';
import { channelRoutes } from './channel-routes.js';
import type { SubscriberRoutesDeps } from './subscriber-routes.js';
import { subscriberRoutes } from './subscriber-routes.js';
import { sendRoutes } from './send-routes.js';
import type { TemplateCatalog } from './template-catalog.js';
import { templatesUsageRoutes } from './templates-usage-routes.js';
import type { WebhookDeps } from './webhook-route.js';
import { webhookRoute } from './webhook-route.js';

export interface IngressAppDeps {
  send: SendRoutesDeps;
  admin: AdminRoutesDeps;
  webhook: WebhookDeps;
  ops: OpsDeps;
  log: Logger;
  metrics: Metrics;
  /** `/v1/recipients/{to}` and `/v1/opt-outs` (WhatsApp's rules); absent: not served. */
  recipients?: RecipientRoutesDeps;
  /** `/v1/media` (uploads and downloads through the channels' CBOT); absent: not served. */
  media?: Omit<MediaRoutesDeps, 'send' | 'log'>;
  /** `/v1/subscribers` (admin API); absent: not served. */
  subscribers?: SubscriberRoutesDeps;
  /** `/v1/channels` (admin API: state, pause, resume); absent: not served. */
  channels?: ChannelRoutesDeps;
  /** The operators' console at /console (console/console-routes.ts); absent: not served. */
  console?: Router;
  /** The /admin/queues UI (see queue-ui.ts); absent: not served. */
  queueUi?: Router;
  /** INGRESS_BODY_BUFFER_BYTES: request bodies held at once. Unset: no budget. */
  bodyBufferBytes?: number;
  /** A SERVER span per send and per callback request when tracing is on. */
  tracing?: Tracing;
  /** GET /v1/templates; also set as `send.templates` for the accept-time check. */
  templates?: TemplateCatalog;
}

/** The requests that start a trace: a message's and a callback's. */
const TRACED_ROUTES = new Set(['/v1/messages', '/webhooks/cbot']);

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * helmet decides the security headers; they do not depend on the request here (a JSON API), so they
 * are computed once and set per response without running helmet's middleware chain each time.
 */
function staticSecurityHeaders(): [string, string][] {
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
  return headers;
}

/**
 * What every answer carries, on either path: security headers, X-Request-Id (the caller's when it is
 * sane) and no caching; a debug line per request when debug logging is on. Returns the request id.
 */
function responsePreparer(log: Logger): (req: IncomingMessage, res: ServerResponse) => string {
  const security = staticSecurityHeaders();
  return (req, res) => {
    for (const [name, value] of security) res.setHeader(name, value);
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    res.setHeader('Cache-Control', 'no-store');
    if (log.isLevelEnabled('debug')) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.debug({ reqId: id, method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms }, 'request');
      });
    }
    return id;
  };
}

/**
 * The ingress's request handler. The two routes every message and callback takes (POST /v1/messages,
 * POST /webhooks/cbot) run on the hot path, straight on node:http; everything else, and what the hot
 * path declines, goes through express. Both paths share the same checks and answers.
 */
export function createIngressApp(deps: IngressAppDeps): RequestListener {
  const prepare = responsePreparer(deps.log);
  const budget = deps.bodyBufferBytes === undefined ? undefined : new BodyBudget(deps.bodyBufferBytes);
  const onRejected = (route: string, status: number) => deps.metrics.rejected.inc({ route, code: String(status) });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    prepare(req, res);
    requireSingleAuthorization(req.rawHeaders);
    next();
  });
  app.use(opsRoutes(deps.ops));
  app.use(docsRoutes());
  app.use(sendRoutes(deps.send));
  app.use(listRoute(deps.send));
  app.use(readRoute(deps.send));
  if (deps.media) app.use(mediaRoutes({ ...deps.media, send: deps.send, log: deps.log.child({ component: 'media' }) }));
  app.use(templatesUsageRoutes({ ...deps.send, ...(deps.templates ? { catalog: deps.templates } : {}) }));
  app.use(batchRoute({ ...deps.send, ...(budget ? { budget } : {}) }));
  app.use(streamRoute(deps.send));
  app.use(cancelRoutes(deps.send));
  app.use(adminRoutes(deps.admin));
  if (deps.subscribers) app.use(subscriberRoutes(deps.subscribers));
  if (deps.recipients) app.use(recipientRoutes(deps.recipients));
  if (deps.channels) app.use(channelRoutes(deps.channels));
  app.use(webhookRoute({ ...deps.webhook, ...(budget ? { budget } : {}) }));
  if (deps.queueUi) app.use(deps.queueUi);
  if (deps.console) app.use(deps.console);
  app.use((_req, res) => sendError(res, new HttpError(404, 'not_found', 'no such route')));
  app.use(errorMiddleware(deps.log, onRejected));
  const hot = hotRoutes({ send: deps.send, webhook: deps.webhook, log: deps.log, prepare, onRejected, ...(budget ? { budget } : {}) });
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    if (!hot(req, res)) app(req, res);
  };
  const tracing = deps.tracing ?? NOOP_TRACING;
  if (!tracing.enabled) return serve;
  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (req.method === 'POST' && TRACED_ROUTES.has(path)) tracing.serveHttp(req, res, path, () => serve(req, res));
    else serve(req, res);
  };
}
