import { Router, raw } from 'express';
import { ReplayManyRequest } from '@cbot-relay/api';
import type { Logger } from '@cbot-relay/observability';
import type { MessageStore, Outbound } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import type { DeadLetterSource } from './dead-letters.js';
import { DeadLetters } from './dead-letters.js';
import { readJson } from './read-json.js';
import { RELAY_ID_PATTERN } from './relay-id.js';
import { caller } from './send-routes.js';

export interface AdminRoutesDeps {
  adminKeys: KeyRing;
  store: MessageStore;
  outbound: Outbound;
  events?: DeadLetterSource;
  /** The facade the console shares; built from the fields above when absent. */
  deadLetters?: DeadLetters;
  now: () => number;
  log: Logger;
}

/** Dead letters: failed outbound messages (and failed subscriber deliveries), behind RELAY_ADMIN_KEYS. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const deadLetters = deps.deadLetters ?? new DeadLetters(deps);
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
    let page;
    try {
      page = await deadLetters.list(limit, before);
    } catch (err) {
      throw new UnavailableError(err);
    }
    const messages = page.messages.map(({ caller: _c, ...rec }) => ({ kind: 'message', ...rec }));
    res.json({ items: [...messages, ...page.events], ...(page.next === undefined ? {} : { next: String(page.next) }) });
  });

  r.post('/v1/dead-letters/:id/replay', async (req, res) => {
    const id = String(req.params.id);
    let result;
    try {
      result = await deadLetters.replay(id, res.locals.admin as string);
    } catch (err) {
      throw new UnavailableError(err);
    }
    switch (result.kind) {
      case 'replayed':
        if (result.what === 'message') res.status(202).location(`/v1/messages/${id}`);
        else res.status(202);
        res.json({ id, status: 'queued' });
        return;
      case 'not-failed':
        throw new HttpError(409, 'not_failed', result.what === 'message' ? `message is ${result.status}, not failed` : `the delivery is ${result.status}, not failed`);
      case 'body-expired':
        throw new HttpError(409, 'body_expired', 'the message body is no longer kept; it cannot be replayed');
      case 'missing':
        throw new HttpError(404, 'not_found', 'no such dead letter');
    }
  });

  r.post('/v1/dead-letters/replay', raw({ type: () => true, limit: 4096 }), async (req, res) => {
    const body = readReplayMany(req.body);
    const sinceMs = body.since === undefined ? undefined : Date.parse(body.since);
    let counts;
    try {
      counts = await deadLetters.replayMany(body.kind, sinceMs, res.locals.admin as string);
    } catch (err) {
      throw new UnavailableError(err);
    }
    res.json(counts);
  });
  return r;
}

function readReplayMany(raw: unknown): ReplayManyRequest {
  const parsed = ReplayManyRequest.safeParse(readJson(raw).value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new HttpError(400, 'invalid_request', 'body must be {"kind": "event" | "message" | "all", "since"?: ISO 8601 time}', details);
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}
