import { Router, raw } from 'express';
import { ReplayManyRequest } from '@cbot-relay/api';
import type { Logger } from '@cbot-relay/observability';
import type { MessageStore, Outbound } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import { RELAY_ID_PATTERN } from './relay-id.js';
import { caller } from './send-routes.js';

export interface DeadLetterSource {
  /** Subscriber dead letters (HTTP pushes), read from their queues in Redis by any process. */
  list(limit: number): Promise<unknown[]>;
  replay(id: string): Promise<{ kind: 'replayed' } | { kind: 'missing' } | { kind: 'not-failed'; state: string }>;
  /** Replays those that failed at or after `sinceMs` (all when undefined), at most `max`. */
  replayMany(sinceMs: number | undefined, max: number): Promise<{ replayed: number; skipped: number; more: boolean }>;
}

/** Dead letters one replay-many call takes per kind; `more: true` in the answer says call again. */
export const REPLAY_MANY_MAX = 10_000;

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
      switch (outcome.kind) {
        case 'replayed':
          deps.log.info({ deadLetter: id, admin: res.locals.admin }, 'event dead letter replayed');
          res.status(202).json({ id, status: 'queued' });
          return;
        case 'not-failed':
          throw new HttpError(409, 'not_failed', `the delivery is ${outcome.state}, not failed`);
        case 'missing':
          break;
      }
    }
    throw new HttpError(404, 'not_found', 'no such dead letter');
  });

  r.post('/v1/dead-letters/replay', raw({ type: () => true, limit: 4096 }), async (req, res) => {
    const body = readReplayMany(req.body);
    const sinceMs = body.since === undefined ? undefined : Date.parse(body.since);
    const counts = { replayed: 0, skipped: 0, more: false };
    try {
      if (body.kind !== 'event') add(counts, await replayMessages(deps, sinceMs));
      if (body.kind !== 'message' && deps.events) add(counts, await deps.events.replayMany(sinceMs, REPLAY_MANY_MAX));
    } catch (err) {
      throw new UnavailableError(err);
    }
    deps.log.info({ ...body, ...counts, admin: res.locals.admin }, 'dead letters replayed');
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

function add(into: { replayed: number; skipped: number; more: boolean }, c: { replayed: number; skipped: number; more: boolean }): void {
  into.replayed += c.replayed;
  into.skipped += c.skipped;
  into.more ||= c.more;
}

/**
 * Failed messages that failed at or after `sinceMs`, oldest failure first, so a recipient's messages
 * go back on its queue in the order they were accepted. Each replay is its own Lua step, so two of
 * these racing replay each message once.
 */
async function replayMessages(deps: AdminRoutesDeps, sinceMs: number | undefined): Promise<{ replayed: number; skipped: number; more: boolean }> {
  const { ids, more } = await deps.store.deadLetterIds(sinceMs, REPLAY_MANY_MAX);
  const counts = { replayed: 0, skipped: 0, more };
  for (const id of ids.reverse()) {
    const result = await deps.outbound.replay(id, deps.now());
    if (result.kind === 'replayed') counts.replayed += 1;
    else counts.skipped += 1;
  }
  return counts;
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}
