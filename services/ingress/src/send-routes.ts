import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Router, raw } from 'express';
import type { RequestHandler } from 'express';
import { ExpiresIn, IdempotencyKey, MAX_EXPIRES_IN_S, Priority as PriorityHeader } from '@cbot-relay/api';
import { normalizeRecipient, validateOutboundMessage } from '@cbot-relay/messages';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import type { ListPage, ListQuery, MessageRecord, MessageStore, Outbound, Priority } from '@cbot-relay/records';
import { fingerprint } from '@cbot-relay/records';
import { AnswerDeadline, AnswerTimeoutError } from './answer-deadline.js';
import type { KeyRing } from './auth.js';
import { bearerToken } from './auth.js';
import { HttpError, ReplicationTimeoutError, UnavailableError } from './http-error.js';
import type { KeyAdmission } from './key-rate-limiter.js';
import { rateLimitHeaders } from './key-rate-limiter.js';
import { isJsonContentType, readJson } from './read-json.js';
import { RELAY_ID_PATTERN, newRelayId } from './relay-id.js';
import type { TemplateCatalog } from './template-catalog.js';

export interface SendRoutesDeps {
  keys: KeyRing;
  store: MessageStore;
  outbound: Outbound;
  maxBodyBytes: number;
  /** Per-caller admission (counts the request); undefined when no limit applies. */
  admit?: (caller: string) => Promise<KeyAdmission | undefined>;
  now: () => number;
  log: Logger;
  metrics: Metrics;
  /** RELAY_ADMIN_KEYS: GET /v1/messages with one of these lists every caller's messages. */
  adminKeys?: KeyRing;
  /** When on, each message stores its request's `traceparent`, so its send joins the request's trace. */
  tracing?: Tracing;
  /** The CBOT channels a send may name; absent: the one channel `default`. */
  channels?: ChannelRouting;
  /** The channels' template lists: a `template` send is checked against its channel's (template-catalog.ts). */
  templates?: Pick<TemplateCatalog, 'check'>;
  /**
   * REDIS_ANSWER_TIMEOUT_MS: a send is answered within this of its body arriving; Redis slower than
   * that is a 503 (the accept may still complete: a retry with the same Idempotency-Key returns it).
   * Absent: no bound.
   */
  answerTimeoutMs?: number;
  /**
   * REDIS_WAIT_REPLICAS: resolves true once enough replicas have this connection's writes (Redis
   * WAIT); false or a failure is a 503 replication_timeout. Absent: no wait.
   */
  replicated?: () => Promise<boolean>;
  /**
   * HISTORY_DATABASE_URL: reads that miss Redis (a record past HOT_RETENTION) go on to PostgreSQL, and
   * lists merge both (MessageHistory). Absent: Redis alone.
   */
  history?: {
    get(id: string): Promise<MessageRecord | undefined>;
    list(q: ListQuery): Promise<ListPage>;
  };
}

export interface ChannelRouting {
  ids: readonly string[];
  /** Where a send that names no channel goes. */
  defaultId: string;
  /** Callers limited to some channels (`name:key:a|b`), by caller name; absent callers may use every channel. */
  allowed: ReadonlyMap<string, readonly string[]>;
}

const SINGLE_CHANNEL: ChannelRouting = { ids: ['default'], defaultId: 'default', allowed: new Map() };

/**
 * The channel a send goes out on, and its body as CBOT should see it: the `channel` field, when
 * given, is taken out (the rest of the caller's object is forwarded unchanged).
 */
export function routeChannel(routing: ChannelRouting | undefined, who: string, value: Record<string, unknown>, text: string): { channel: string; text: string } {
  const r = routing ?? SINGLE_CHANNEL;
  let channel = r.defaultId;
  let out = text;
  if (Object.hasOwn(value, 'channel')) {
    const named = value.channel;
    if (typeof named !== 'string') {
      throw new HttpError(400, 'invalid_message', 'the body is not a valid message', [{ path: 'channel', message: 'must be a string naming a channel' }]);
    }
    if (!r.ids.includes(named)) {
      const shown = named.length > 64 ? `${named.slice(0, 64)}…` : named;
      throw new HttpError(400, 'unknown_channel', `unknown channel "${shown}"; channels are ${r.ids.join(', ')}`, [{ path: 'channel', message: 'unknown channel' }]);
    }
    channel = named;
    const { channel: _named, ...rest } = value;
    out = JSON.stringify(rest);
  }
  const allowed = r.allowed.get(who);
  if (allowed !== undefined && !allowed.includes(channel)) {
    throw new HttpError(403, 'channel_forbidden', `this API key may not send on channel "${channel}"`, [{ path: 'channel', message: `allowed: ${allowed.join(', ')}` }]);
  }
  return { channel, text: out };
}

export function caller(keys: KeyRing, headers: IncomingHttpHeaders, what = 'RELAY_API_KEYS'): string {
  if (keys.empty) throw new HttpError(401, 'unauthorized', `no API keys are configured (${what}); every call is refused`);
  const token = bearerToken(headers.authorization);
  const name = token === undefined ? undefined : keys.match(token);
  if (name === undefined) {
    throw new HttpError(401, 'unauthorized', token === undefined ? 'missing bearer token' : 'unknown API key', [], {
      'WWW-Authenticate': 'Bearer',
    });
  }
  return name;
}

/**
 * Per-caller admission (API_KEY_RATE_LIMIT, counted in Redis across ingress replicas): sets the
 * RateLimit-Policy / RateLimit fields on `res` when admitted; over the caller's rate, a 429 with
 * Retry-After and the same fields. A Redis error is a 503 like any other (nothing was accepted).
 */
export async function admit(deps: SendRoutesDeps, who: string, res?: Pick<ServerResponse, 'setHeader'>, deadline?: AnswerDeadline): Promise<void> {
  if (!deps.admit) return;
  let admission: KeyAdmission | undefined;
  try {
    const asked = deps.admit(who);
    admission = await (deadline ? deadline.within(asked, () => new AnswerTimeoutError('send')) : asked);
  } catch (err) {
    if (err instanceof AnswerTimeoutError) throw err;
    throw new UnavailableError(err);
  }
  if (admission === undefined) return;
  const headers = rateLimitHeaders(admission);
  if (!admission.allowed) {
    throw new HttpError(429, 'rate_limited', 'too many requests for this API key', [], {
      ...headers,
      'Retry-After': String(Math.max(1, Math.ceil(admission.resetMs / 1000))),
    });
  }
  for (const [name, value] of Object.entries(headers)) res?.setHeader(name, value);
}

export function requireJson(headers: IncomingHttpHeaders): void {
  if (!isJsonContentType(headers['content-type'])) {
    throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
  }
}

/**
 * POST /v1/messages once the caller is known and the body read: validates, then makes the message
 * durable and queues it behind its recipient's earlier ones, within the backlog bounds, in one step.
 * Returns the relay id (an earlier one for a repeated Idempotency-Key); throws the HttpError to
 * answer otherwise.
 */
export async function acceptMessage(deps: SendRoutesDeps, who: string, body: unknown, headers: IncomingHttpHeaders, deadline?: AnswerDeadline): Promise<string> {
  const { text, value } = readJson(body);
  const checked = validateOutboundMessage(value);
  if (!checked.ok) throw new HttpError(400, 'invalid_message', 'the body is not a valid message', checked.issues);
  const idem = readIdempotencyKey(headers);
  const expiresIn = readExpiresIn(headers);
  const priority = readPriority(headers);
  const now = deps.now();

  const message = checked.message as { to: string; type: string };
  const routed = routeChannel(deps.channels, who, value as Record<string, unknown>, text);
  if (message.type === 'template' && deps.templates) {
    // In-process (no Redis read): the channel's list as this ingress last took it.
    const refused = deps.templates.check(routed.channel, (value as { template?: unknown }).template);
    if (refused) throw new HttpError(400, refused.code, refused.message, refused.details);
  }
  const id = newRelayId(now);
  const traceparent = deps.tracing?.traceparent();
  let accepted;
  try {
    const accepting = deps.outbound.accept({
      id,
      to: normalizeRecipient(message.to),
      type: message.type,
      caller: who,
      priority,
      channel: routed.channel,
      nowMs: now,
      body: routed.text,
      ...(expiresIn === undefined ? {} : { expiresAtMs: now + expiresIn * 1000 }),
      ...(idem === undefined ? {} : { idempotency: { key: idem, fingerprint: fingerprint(value) } }),
      ...(traceparent === undefined ? {} : { traceparent }),
    });
    // Past the deadline the accept goes on in Redis: the answer says it may have happened.
    accepted = await (deadline ? deadline.within(accepting, () => new AnswerTimeoutError('send')) : accepting);
  } catch (err) {
    if (err instanceof AnswerTimeoutError) throw err;
    throw new UnavailableError(err);
  }
  if (accepted.kind === 'full') {
    throw new HttpError(429, 'backlog_full', `the outbound backlog is full (${accepted.bound === 'bytes' ? 'bytes' : 'messages'}); retry later`, [], {
      'Retry-After': '5',
    });
  }
  if (accepted.kind === 'conflict') {
    throw new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different body');
  }
  if (accepted.kind === 'created') deps.metrics.accepted.inc({ caller: who });
  // A repeated key waits too: its first accept may be the write no replica has yet.
  await replicatedWithin(deps.replicated, deadline, 'send');
  deps.tracing?.annotate({ 'cbot_relay.message_id': accepted.id, 'cbot_relay.accept': accepted.kind });
  return accepted.id;
}

/**
 * The send API on express. The ingress serves POST /v1/messages on its hot path (hot-routes.ts)
 * and hands it here only for what that path leaves to express (a Content-Encoding to inflate).
 */
export function sendRoutes(deps: SendRoutesDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: deps.maxBodyBytes });

  // Authenticate before reading the body: an unauthenticated caller never gets to make us buffer 64 KiB.
  const authenticate: RequestHandler = (req, res, next) => {
    res.locals.caller = caller(deps.keys, req.headers);
    next();
  };

  const admission: RequestHandler = async (req, res, next) => {
    await admit(deps, res.locals.caller as string, res, answerDeadline(deps, res.locals));
    requireJson(req.headers);
    next();
  };

  r.post('/v1/messages', authenticate, admission, pauseDeadline, body, resumeDeadline, async (req, res) => {
    const id = await acceptMessage(deps, res.locals.caller as string, req.body, req.headers, answerDeadline(deps, res.locals));
    res.status(202).location(`/v1/messages/${id}`).json({ id, status: 'queued' });
  });

  r.get('/v1/messages/:id', authenticate, async (req, res) => {
    const id = String(req.params.id);
    if (!RELAY_ID_PATTERN.test(id)) throw new HttpError(404, 'not_found', 'no such message');
    let rec;
    try {
      rec = (await deps.store.get(id)) ?? (await deps.history?.get(id));
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

/** REDIS_WAIT_REPLICAS after a write: enough replicas have it, or the 503 to answer (within the request's deadline). */
export async function replicatedWithin(replicated: (() => Promise<boolean>) | undefined, deadline: AnswerDeadline | undefined, what: 'send' | 'callback'): Promise<void> {
  if (replicated === undefined) return;
  let enough: boolean;
  try {
    const asked = replicated();
    enough = await (deadline ? deadline.within(asked, () => new AnswerTimeoutError(what)) : asked);
  } catch (err) {
    if (err instanceof AnswerTimeoutError) throw err;
    throw new ReplicationTimeoutError(err);
  }
  if (!enough) throw new ReplicationTimeoutError();
}

/** The request's deadline (created on first use) on the express path; undefined without REDIS_ANSWER_TIMEOUT_MS. */
export function answerDeadline(deps: { answerTimeoutMs?: number }, locals: Record<string, unknown>): AnswerDeadline | undefined {
  if (deps.answerTimeoutMs === undefined) return undefined;
  locals.deadline ??= new AnswerDeadline(deps.answerTimeoutMs);
  return locals.deadline as AnswerDeadline;
}

/** Around express's body parser: the time the client takes to send its body is not Redis's. */
export const pauseDeadline: RequestHandler = (_req, res, next) => {
  (res.locals.deadline as AnswerDeadline | undefined)?.pause();
  next();
};
export const resumeDeadline: RequestHandler = (_req, res, next) => {
  (res.locals.deadline as AnswerDeadline | undefined)?.resume();
  next();
};

function readIdempotencyKey(headers: IncomingHttpHeaders): string | undefined {
  const v = headers['idempotency-key'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !IdempotencyKey.safeParse(v).success) {
    throw new HttpError(400, 'invalid_header', 'Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { path: 'Idempotency-Key', message: 'invalid' },
    ]);
  }
  return v;
}

// The header schemas are the ones the OpenAPI description is built from (packages/api); the ingress
// also takes surrounding spaces and any case in X-Relay-Priority.
export function readPriority(headers: IncomingHttpHeaders): Priority {
  const v = headers['x-relay-priority'];
  if (v === undefined) return 'normal';
  const p = typeof v === 'string' ? PriorityHeader.safeParse(v.trim().toLowerCase()).data : undefined;
  if (p === undefined) {
    throw new HttpError(400, 'invalid_header', 'X-Relay-Priority must be high, normal or bulk', [{ path: 'X-Relay-Priority', message: 'invalid' }]);
  }
  return p;
}

export function readExpiresIn(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['x-relay-expires-in'];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v.trim()) ? ExpiresIn.safeParse(Number(v.trim())).data : undefined;
  if (n === undefined) {
    throw new HttpError(400, 'invalid_header', `X-Relay-Expires-In must be whole seconds from 1 to ${MAX_EXPIRES_IN_S}`, [
      { path: 'X-Relay-Expires-In', message: 'invalid' },
    ]);
  }
  return n;
}
