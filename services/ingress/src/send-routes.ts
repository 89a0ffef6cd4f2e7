import { Router, raw } from 'express';
import type { Request, RequestHandler } from 'express';
import { validateOutboundMessage } from '@cbot-relay/messages';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { OutboundLanes } from '@cbot-relay/queues';
import type { MessageStore } from '@cbot-relay/records';
import { fingerprint } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { bearerToken } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { isJsonContentType, readJson } from './read-json.js';
import { RELAY_ID_PATTERN, newRelayId } from './relay-id.js';

export interface SendRoutesDeps {
  keys: KeyRing;
  store: MessageStore;
  lanes: OutboundLanes;
  maxBodyBytes: number;
  /** Current outbound backlog and its bound (429 above it). */
  backlog: () => Promise<number>;
  backlogMax: number;
  /** Per-caller admission; returns ms to wait when over the caller's rate, 0 to admit. */
  admit?: (caller: string) => number;
  now: () => number;
  log: Logger;
  metrics: Metrics;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_EXPIRES_IN_S = 30 * 86_400;

export function caller(keys: KeyRing, req: Request, what = 'RELAY_API_KEYS'): string {
  if (keys.empty) throw new HttpError(401, 'unauthorized', `no API keys are configured (${what}); every call is refused`);
  const token = bearerToken(req.headers.authorization);
  const name = token === undefined ? undefined : keys.match(token);
  if (name === undefined) {
    throw new HttpError(401, 'unauthorized', token === undefined ? 'missing bearer token' : 'unknown API key', [], {
      'WWW-Authenticate': 'Bearer',
    });
  }
  return name;
}

export function sendRoutes(deps: SendRoutesDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: deps.maxBodyBytes });

  // Authenticate before reading the body: an unauthenticated caller never gets to make us buffer 64 KiB.
  const authenticate: RequestHandler = (req, res, next) => {
    res.locals.caller = caller(deps.keys, req);
    next();
  };

  const jsonOnly: RequestHandler = (req, _res, next) => {
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    }
    next();
  };

  r.post('/v1/messages', authenticate, admission(deps), jsonOnly, body, async (req, res) => {
    const who = res.locals.caller as string;
    const { text, value } = readJson(req.body);
    const checked = validateOutboundMessage(value);
    if (!checked.ok) throw new HttpError(400, 'invalid_message', 'the body is not a valid message', checked.issues);
    const idem = readIdempotencyKey(req);
    const expiresIn = readExpiresIn(req);
    const now = deps.now();

    let backlog: number;
    try {
      backlog = await deps.backlog();
    } catch (err) {
      throw new UnavailableError(err);
    }
    if (backlog >= deps.backlogMax) {
      throw new HttpError(429, 'backlog_full', 'the outbound backlog is full; retry later', [], { 'Retry-After': '5' });
    }

    const message = checked.message as { to: string; type: string };
    const id = newRelayId(now);
    try {
      const accepted = await deps.store.acceptAndEnqueue(
        {
          id,
          to: message.to,
          type: message.type,
          caller: who,
          nowMs: now,
          body: text,
          ...(expiresIn === undefined ? {} : { expiresAtMs: now + expiresIn * 1000 }),
          ...(idem === undefined ? {} : { idempotency: { key: idem, fingerprint: fingerprint(value) } }),
        },
        deps.lanes.jobCall({ id, to: message.to }),
      );
      if (accepted.kind === 'conflict') {
        throw new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different body');
      }
      if (accepted.kind === 'created') deps.metrics.accepted.inc({ caller: who });
      res.status(202).location(`/v1/messages/${accepted.id}`).json({ id: accepted.id, status: 'queued' });
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new UnavailableError(err);
    }
  });

  r.get('/v1/messages/:id', authenticate, async (req, res) => {
    const id = String(req.params.id);
    if (!RELAY_ID_PATTERN.test(id)) throw new HttpError(404, 'not_found', 'no such message');
    let rec;
    try {
      rec = await deps.store.get(id);
    } catch (err) {
      throw new UnavailableError(err);
    }
    // Another caller's message is as invisible as a missing one.
    if (!rec || rec.caller !== res.locals.caller) throw new HttpError(404, 'not_found', 'no such message');
    const { caller: _caller, ...view } = rec;
    res.json(view);
  });

  return r;
}

function admission(deps: SendRoutesDeps): RequestHandler {
  return (_req, res, next) => {
    const waitMs = deps.admit ? deps.admit(res.locals.caller as string) : 0;
    if (waitMs > 0) {
      throw new HttpError(429, 'rate_limited', 'too many requests for this API key', [], {
        'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
    }
    next();
  };
}

function readIdempotencyKey(req: Request): string | undefined {
  const v = req.headers['idempotency-key'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !IDEMPOTENCY_KEY.test(v)) {
    throw new HttpError(400, 'invalid_header', 'Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { path: 'Idempotency-Key', message: 'invalid' },
    ]);
  }
  return v;
}

function readExpiresIn(req: Request): number | undefined {
  const v = req.headers['x-relay-expires-in'];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_EXPIRES_IN_S) {
    throw new HttpError(400, 'invalid_header', `X-Relay-Expires-In must be whole seconds from 1 to ${MAX_EXPIRES_IN_S}`, [
      { path: 'X-Relay-Expires-In', message: 'invalid' },
    ]);
  }
  return n;
}
