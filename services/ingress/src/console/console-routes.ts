import { Router, urlencoded } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '@cbot-relay/observability';
import { crossSite } from '../queue-ui.js';
import type { ConsoleDeps } from './console-deps.js';
import type { ConsoleSession } from './console-session.js';
import { clearedCookie, cookieSecure, csrfMatches, issueSession, readSession } from './console-session.js';
import { deadLettersPage } from './dead-letters-page.js';
import { html } from './html.js';
import { CONSOLE_CSP, CONSOLE_CSS, CONSOLE_ICON, page } from './layout.js';
import type { Rendered } from './messages-page.js';
import { messagePage, messagesPage } from './messages-page.js';
import { channelsPage, overviewPage, subscribersPage } from './status-pages.js';

export const CONSOLE_ROUTE = '/console';
/** Ids one "Replay all shown" takes: a page shows at most 100 messages and 100 subscriber deliveries. */
const MAX_REPLAY_IDS = 500;
/** Where a sign-in may send the browser on to: a console page of this origin, nothing else. */
const NEXT = /^\/console(?:\/[A-Za-z0-9_./-]*)?(?:\?[A-Za-z0-9_.~%&=+:-]*)?$/;

const send = (res: Response, r: Rendered): void => void res.status(r.status).type('html').send(r.html);

/**
 * The operators' console at /console: server-rendered pages behind a sign-in with an admin key
 * (RELAY_ADMIN_KEYS). Every action calls what the API's routes call (DeadLetters, MessageStore).
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const wrap = wrapWith(deps.log);
  const r = Router();
  const form = urlencoded({ extended: false, limit: '64kb', parameterLimit: MAX_REPLAY_IDS + 10 });
  const secure = (req: Request) => cookieSecure(req.secure, req.headers.host);

  r.use(CONSOLE_ROUTE, (_req, res, next) => {
    res.locals.route = `${CONSOLE_ROUTE}/*`;
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    next();
  });

  r.get('/console/static/console.css', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('text/css').send(CONSOLE_CSS);
  });
  r.get('/console/static/icon.svg', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/svg+xml').send(CONSOLE_ICON);
  });

  const signIn = (res: Response, status: number, next: string | undefined, error?: string): void =>
    void res
      .status(status)
      .type('html')
      .send(
        page({
          title: 'Sign in',
          current: '',
          ...(error ? { error } : {}),
          body: html`<form class="login" method="post" action="/console/login">
<label for="key">Admin key</label><input id="key" name="key" type="password" autocomplete="current-password" required>
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}<button type="submit">Sign in</button></form>
<p class="quiet">An admin key of this relay (RELAY_ADMIN_KEYS). It is sent in the form's body, never in a URL.</p>`,
        }),
      );

  const session = async (req: Request): Promise<ConsoleSession | undefined> => {
    if (deps.adminKeys.empty) return undefined;
    const s = readSession(deps.adminKeys, await deps.secret.get(), req.headers.cookie, deps.now());
    return s && !(await deps.secret.revoked(s.id)) ? s : undefined;
  };

  r.get('/console/login', wrap(async (req, res) => {
    if (await session(req)) return void res.redirect(303, '/console');
    const next = typeof req.query.next === 'string' && NEXT.test(req.query.next) ? req.query.next : undefined;
    signIn(res, 200, next);
  }));

  r.post('/console/login', form, wrap(async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = typeof body.next === 'string' && NEXT.test(body.next) ? body.next : undefined;
    if (crossSite(req.headers)) return signIn(res, 403, next, 'Refused: the sign-in did not come from this console.');
    if (deps.adminKeys.empty) return signIn(res, 401, next, 'No admin keys are configured (RELAY_ADMIN_KEYS): the console is closed.');
    const name = typeof body.key === 'string' && body.key.length <= 1024 ? deps.adminKeys.match(body.key) : undefined;
    if (name === undefined) {
      deps.log.warn({ ip: req.socket.remoteAddress }, 'console: sign-in refused');
      return signIn(res, 401, next, 'That is not an admin key of this relay.');
    }
    const issued = issueSession(deps.adminKeys, await deps.secret.get(), name, deps.now(), secure(req))!;
    deps.log.info({ admin: name }, 'console: signed in');
    res.setHeader('Set-Cookie', issued.cookie);
    res.redirect(303, next ?? '/console');
  }));

  // Everything below needs a session; a POST also this session's CSRF token, from this origin.
  r.use(CONSOLE_ROUTE, wrap(async (req, res, next) => {
    const s = await session(req);
    if (!s) {
      const back = req.method === 'GET' && NEXT.test(req.originalUrl) && req.originalUrl !== '/console' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      return void res.redirect(303, `/console/login${back}`);
    }
    res.locals.session = s;
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (req.method !== 'POST') return void res.status(405).setHeader('Allow', 'GET, HEAD, POST').type('text').send('method not allowed');
    await new Promise<void>((resolve, reject) => form(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (crossSite(req.headers) || !csrfMatches(s, body.csrf)) {
      deps.log.warn({ admin: s.admin, path: req.path }, 'console: cross-site or tokenless POST refused');
      return void res.status(403).type('html').send(page({ title: 'Refused', current: '', session: s, error: 'Refused: this form did not come from your console session. Go back, reload the page and try again.', body: html`` }));
    }
    next();
  }));

  const who = (res: Response) => res.locals.session as ConsoleSession;

  r.post('/console/logout', wrap(async (_req, res) => {
    const s = who(res);
    await deps.secret.revoke(s.id, (s.expMs - deps.now()) / 1000 + 60);
    deps.log.info({ admin: s.admin }, 'console: signed out');
    res.setHeader('Set-Cookie', clearedCookie(secure(_req)));
    res.redirect(303, '/console/login');
  }));

  r.get('/console', wrap(async (_req, res) => send(res, await overviewPage(deps, who(res)))));
  r.get('/console/messages', wrap(async (req, res) => send(res, await messagesPage(deps, who(res), req))));
  r.get('/console/messages/:id', wrap(async (req, res) => {
    const done = typeof req.query.done === 'string' ? req.query.done : undefined;
    send(res, await messagePage(deps, who(res), String(req.params.id), done ? { done } : {}));
  }));
  r.post('/console/messages/:id/body', wrap(async (req, res) => {
    const id = String(req.params.id);
    deps.log.info({ admin: who(res).admin, relayId: id }, 'console: message body shown');
    send(res, await messagePage(deps, who(res), id, { showBody: true }));
  }));
  r.post('/console/messages/:id/replay', wrap(async (req, res) => {
    const id = String(req.params.id);
    const result = await deps.deadLetters.replay(id, who(res).admin);
    res.redirect(303, `/console/messages/${encodeURIComponent(id)}?done=${result.kind}`);
  }));
  r.get('/console/dead-letters', wrap(async (req, res) => send(res, await deadLettersPage(deps, who(res), req))));
  r.post('/console/dead-letters/replay', wrap(async (req, res) => {
    const raw = (req.body as Record<string, unknown>).ids;
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string').slice(0, MAX_REPLAY_IDS);
    const counts = await deps.deadLetters.replayIds(ids, who(res).admin);
    res.redirect(303, `/console/dead-letters?replayed=${counts.replayed}&skipped=${counts.skipped}`);
  }));
  r.post('/console/dead-letters/:id/replay', wrap(async (req, res) => {
    const result = await deps.deadLetters.replay(String(req.params.id), who(res).admin);
    const replayed = result.kind === 'replayed' ? 1 : 0;
    res.redirect(303, `/console/dead-letters?replayed=${replayed}&skipped=${1 - replayed}`);
  }));
  r.get('/console/channels', wrap(async (_req, res) => send(res, await channelsPage(deps, who(res)))));
  r.get('/console/subscribers', wrap(async (_req, res) => send(res, await subscribersPage(deps, who(res)))));
  r.use(CONSOLE_ROUTE, (_req, res) => {
    res.status(404).type('html').send(page({ title: 'Not found', current: '', session: who(res), body: html`<p>No such console page.</p>` }));
  });
  return r;
}

/** A console page that cannot read Redis says so as a page (503), not as the API's JSON. */
const wrapWith = (log: Logger) => (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => {
  return (req, res, next) => {
    fn(req, res, next).catch((err: unknown) => {
      if (res.headersSent) return next(err);
      const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 503;
      if (status >= 400 && status < 500) return next(err);
      log.error({ err, path: req.path }, 'console: page failed');
      res.status(503).type('html').send(page({ title: 'Unavailable', current: '', error: 'The relay could not read its data (Redis) just now. Try again in a moment.', body: html`` }));
    });
  };
};

