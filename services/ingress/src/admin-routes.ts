import { Router } from 'express';
import type { Logger } from '@cbot-relay/observability';
import type { MessageStore, Outbound } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { RELAY_ID_PATTERN } from './relay-id.js';
import { caller } from './send-routes.js';

export interface DeadLetterSource {
  /** Subscriber dead letters (HTTP pushes), listed and replayed by the fanout side. */
  list(limit: number): Promise<unknown[]>;
  replay(id: string): Promise<'replayed' | 'missing'>;
}

export interface AdminRoutesDeps {
  adminKeys: KeyRing;
  store: MessageStore;
  outbound: Outbound;
  events?: DeadLetterSource;
  now: () => number;
  log: Logger;
}

/** Dead letters: failed outbound messages (and failed subscriber deliveries), behind RELAY_ADMIN_KEYS. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const r = Router();
  r.use('/v1/dead-letters', (req, res, next) => {
    // A refusal here is before any route matched: label it with the mount, not the URL.
    res.locals.route = '/v1/dead-letters/*';
    res.locals.admin = caller(deps.adminKeys, req.headers, 'RELAY_ADMIN_KEYS');
    next();
  });

  r.get('/v1/dead-letters', async (req, res) => {
    const limit = clampInt(req.query.limit, 1, 500, 100);
    const before = req.query.before === undefined ? undefined : clampInt(req.query.before, 0, Number.MAX_SAFE_INTEGER, 0);
    try {
      const page = await deps.store.deadLetters(limit, before);
      const messages = page.records.map(({ caller: _c, ...rec }) => ({ kind: 'message', ...rec }));
      const events = deps.events && before === undefined ? await deps.events.list(limit) : [];
      res.json({ items: [...messages, ...events], ...(page.next === undefined ? {} : { next: String(page.next) }) });
    } catch (err) {
      throw new UnavailableError(err);
    }
  });

  r.post('/v1/dead-letters/:id/replay', async (req, res) => {
    const id = String(req.params.id);
    if (RELAY_ID_PATTERN.test(id)) {
      let result;
      try {
        result = await deps.outbound.replay(id, deps.now());
      } catch (err) {
        throw new UnavailableError(err);
      }
      switch (result.kind) {
        case 'replayed':
          deps.log.info({ relayId: id, admin: res.locals.admin }, 'dead letter replayed');
          res.status(202).location(`/v1/messages/${id}`).json({ id, status: 'queued' });
          return;
        case 'not-failed':
          throw new HttpError(409, 'not_failed', `message is ${result.status}, not failed`);
        case 'no-body':
          throw new HttpError(409, 'body_expired', 'the message body is no longer kept; it cannot be replayed');
        case 'missing':
          throw new HttpError(404, 'not_found', 'no such dead letter');
      }
    }
    if (deps.events && id.startsWith('evt_')) {
      let outcome;
      try {
        outcome = await deps.events.replay(id);
      } catch (err) {
        throw new UnavailableError(err);
      }
      if (outcome === 'replayed') {
        deps.log.info({ deadLetter: id, admin: res.locals.admin }, 'event dead letter replayed');
        res.status(202).json({ id, status: 'queued' });
        return;
      }
    }
    throw new HttpError(404, 'not_found', 'no such dead letter');
  });
  return r;
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}
