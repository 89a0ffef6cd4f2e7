import type { IncomingHttpHeaders } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { Router } from 'express';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '@cbot-relay/observability';
import type { KeyRing } from './auth.js';
import { basicPassword, bearerToken } from './auth.js';
import { HttpError } from './http-error.js';
import { sessionAdmin, sessionCookie } from './queue-ui-session.js';

export const QUEUE_UI_PATH = '/admin/queues';
const SIGNED_IN = 'signed-in';
const HOST = /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?$/;

export interface QueueUiDeps {
  adminKeys: KeyRing;
  /** Every BullMQ queue the relay uses, as named in Redis (hash-tagged in a cluster). */
  queueNames: string[];
  connection: Redis | Cluster;
  /** QUEUE_PREFIX: the BullMQ key prefix of those queues. */
  prefix: string;
  /** QUEUE_UI_WRITE: allow retry, clean, pause…; off, every queue is read-only and any write is 405. */
  write: boolean;
  now: () => number;
  log: Logger;
}

/** A browser cannot send a Bearer header, so the admin key is also taken as the password of HTTP Basic. */
const CHALLENGE = 'Basic realm="cbot-relay admin", charset="UTF-8"';

/**
 * The page's scripts, styles and images all come from the installed @bull-board/ui package on this
 * origin. Its template also links a Google Fonts stylesheet: `style-src 'self'` keeps the browser from
 * fetching it (the UI falls back to a system font), so the page loads nothing from a CDN.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Who is asking: the admin key from Bearer or Basic (password = key), compared in constant time by the
 * KeyRing; without an Authorization header, the session cookie a login set.
 */
export function queueUiAdmin(keys: KeyRing, headers: IncomingHttpHeaders, nowMs: number): { name: string; via: 'bearer' | 'basic' | 'session' } {
  const refuse = (why: string) => new HttpError(401, 'unauthorized', why, [], { 'WWW-Authenticate': CHALLENGE });
  if (keys.empty) throw refuse('no admin keys are configured (RELAY_ADMIN_KEYS); every call is refused');
  if (headers.authorization === undefined) {
    const name = sessionAdmin(keys, headers.cookie, nowMs);
    if (name === undefined) throw refuse('missing credentials');
    return { name, via: 'session' };
  }
  const bearer = bearerToken(headers.authorization);
  const presented = bearer ?? basicPassword(headers.authorization);
  const name = presented === undefined ? undefined : keys.match(presented);
  if (name === undefined) throw refuse(presented === undefined ? 'missing credentials' : 'unknown admin key');
  return { name, via: bearer === undefined ? 'basic' : 'bearer' };
}

/** A browser request started by another site: Sec-Fetch-Site says so, or (older browsers) Origin names another host. */
export function crossSite(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (origin === undefined) return false; // not a browser: scripts send no Origin
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true;
  }
}

export interface QueueUi {
  router: Router;
  close(): Promise<void>;
}

/**
 * bull-board over the relay's BullMQ queues, at /admin/queues behind RELAY_ADMIN_KEYS. Read-only
 * unless QUEUE_UI_WRITE: then bull-board marks every queue read-only, and, in case a route of a later
 * bull-board skips that check, any method but GET/HEAD is refused here first.
 */
export function queueUi(deps: QueueUiDeps): QueueUi {
  const queues = deps.queueNames.map((name) => {
    const q = new Queue(name, { connection: deps.connection, prefix: deps.prefix });
    q.on('error', () => undefined); // connection errors surface on the calls that fail
    return q;
  });
  const adapter = new ExpressAdapter().setBasePath(QUEUE_UI_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: !deps.write, allowRetries: deps.write })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'cbot-relay queues', hideDocsLink: true } },
  });
  const r = Router();
  r.use(QUEUE_UI_PATH, (req, res, next) => {
    res.locals.route = `${QUEUE_UI_PATH}/*`;
    const { name: admin, via } = queueUiAdmin(deps.adminKeys, req.headers, deps.now());
    if (!deps.write && req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'read_only', 'the queue UI is read-only (set QUEUE_UI_WRITE=1 to allow actions)', [], { Allow: 'GET, HEAD' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // A browser attaches cached Basic credentials (and the cookie, unless SameSite holds) to a
      // form another site submits here: an action must come from this origin's own page.
      if (crossSite(req.headers)) throw new HttpError(403, 'cross_site', 'queue UI actions must come from the queue UI itself');
      deps.log.info({ admin, method: req.method, path: req.path }, 'queue UI action');
    }
    res.setHeader('Content-Security-Policy', CSP);
    if (via === 'basic') {
      const cookie = sessionCookie(deps.adminKeys, admin, deps.now(), QUEUE_UI_PATH, req.secure);
      if (cookie !== undefined) res.setHeader('Set-Cookie', cookie);
      // A page whose URL carries credentials cannot fetch() its API (browsers refuse URLs with
      // userinfo, and relative URLs inherit it), so a page opened with Basic and no session yet sends
      // the browser on to itself by a scheme-relative URL, which drops them; the cookie signs it in.
      // The marker stops a client that keeps no cookies (curl -u -L) from going round in circles.
      const host = req.headers.host;
      const page = req.method === 'GET' && !/^\/(?:api|static)\//.test(req.path) && req.query[SIGNED_IN] === undefined;
      if (page && host !== undefined && HOST.test(host) && sessionAdmin(deps.adminKeys, req.headers.cookie, deps.now()) === undefined) {
        res.redirect(303, `//${host}${req.originalUrl}${req.originalUrl.includes('?') ? '&' : '?'}${SIGNED_IN}=1`);
        return;
      }
    }
    next();
  });
  r.use(QUEUE_UI_PATH, adapter.getRouter() as Router);
  let closing: Promise<void> | undefined;
  return {
    router: r,
    close: () =>
      (closing ??= Promise.allSettled(queues.map((q) => q.close())).then((results) => {
        for (const res of results) if (res.status === 'rejected') deps.log.warn({ err: res.reason }, 'queue UI: closing a queue failed');
      })),
  };
}
