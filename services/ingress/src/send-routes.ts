import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Router, raw } from 'express';
import type { RequestHandler } from 'express';
import { ExpiresIn, IdempotencyKey, MAX_EXPIRES_IN_S, MAX_SEND_AHEAD_S, Priority as PriorityHeader, SendAt, Tag } from '@cbot-relay/api';
import { normalizeRecipient, validateOutboundMessage } from '@cbot-relay/messages';
import type { WindowPolicy, WindowState } from '@cbot-relay/records';
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
  /** Each channel's WINDOW_POLICY (`windowPolicy`); absent channels: `enforce`. */
  windowPolicy?: ReadonlyMap<string, WindowPolicy>;
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

/** The `X-Relay-Window` header every 202 carries. */
export const WINDOW_HEADER = 'X-Relay-Window';

/**
 * A send body's `fallback` (optional): `{"type": "template", "template": {…}}`, valid as a template
 * message to the same recipient (the messages package's schema). Throws the 400 otherwise.
 */
export function checkFallback(value: Record<string, unknown>): boolean {
  if (!Object.hasOwn(value, 'fallback')) return false;
  const fb = value.fallback;
  const bad = (path: string, message: string) => new HttpError(400, 'invalid_message', 'the body is not a valid message', [{ path, message }]);
  if (typeof fb !== 'object' || fb === null || Array.isArray(fb)) throw bad('fallback', 'must be an object {"type": "template", "template": {…}}');
  const extra = Object.keys(fb).filter((k) => k !== 'type' && k !== 'template');
  if (extra.length > 0) throw bad(`fallback.${extra[0]!.slice(0, 64)}`, 'unknown field: a fallback has only type and template');
  if ((fb as { type?: unknown }).type !== 'template') throw bad('fallback.type', 'must be "template"');
  const checked = validateOutboundMessage({ to: value.to, type: 'template', template: (fb as { template?: unknown }).template });
  if (!checked.ok) {
    throw new HttpError(
      400,
      'invalid_message',
      'the body is not a valid message',
      checked.issues.filter((i) => i.path !== 'to').map((i) => ({ ...i, path: `fallback.${i.path}` })),
    );
  }
  return true;
}

/**
 * POST /v1/messages once the caller is known and the body read: validates, then makes the message
 * durable and queues it behind its recipient's earlier ones, within the backlog bounds, in one step —
 * the same step that holds it to the recipient's customer-service window and opt-out.
 * Returns the relay id (an earlier one for a repeated Idempotency-Key) and the window; throws the
 * HttpError to answer otherwise.
 */
export async function acceptMessage(deps: SendRoutesDeps, who: string, body: unknown, headers: IncomingHttpHeaders, deadline?: AnswerDeadline): Promise<Accepted> {
  const { text, value } = readJson(body);
  const checked = validateOutboundMessage(value);
  if (!checked.ok) throw new HttpError(400, 'invalid_message', 'the body is not a valid message', checked.issues);
  const hasFallback = checkFallback(value as Record<string, unknown>);
  const idem = readIdempotencyKey(headers);
  const expiresIn = readExpiresIn(headers);
  const priority = readPriority(headers);
  const now = deps.now();
  const sendAt = readSendAt(headers, now);
  const tag = readTag(headers);
  // A scheduled message's expiry counts from its send time: X-Relay-Expires-In is how late it may go.
  const startsAt = sendAt ?? now;

  const message = checked.message as { to: string; type: string };
  const routed = routeChannel(deps.channels, who, value as Record<string, unknown>, text);
  if (message.type === 'template' && deps.templates) {
    // In-process (no Redis read): the channel's list as this ingress last took it.
    const refused = deps.templates.check(routed.channel, (value as { template?: unknown }).template);
    if (refused) throw new HttpError(400, refused.code, refused.message, refused.details);
  }
  if (hasFallback && deps.templates) {
    // The fallback is a template send too: held to the same list, its details under `fallback.`.
    const refused = deps.templates.check(routed.channel, (value as { fallback: { template: unknown } }).fallback.template);
    if (refused) throw new HttpError(400, refused.code, refused.message, refused.details.map((d) => ({ ...d, path: `fallback.${d.path ?? ''}` })));
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
      ...(expiresIn === undefined ? {} : { expiresAtMs: startsAt + expiresIn * 1000 }),
      ...(sendAt === undefined ? {} : { sendAtMs: sendAt }),
      ...(tag === undefined ? {} : { tag }),
      ...(idem === undefined ? {} : { idempotency: { key: idem, fingerprint: fingerprint(value) } }),
      ...(traceparent === undefined ? {} : { traceparent }),
      windowPolicy: deps.channels?.windowPolicy?.get(routed.channel) ?? 'enforce',
      hasFallback,
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
  if (accepted.kind === 'window') {
    const lastInboundAt = accepted.lastInboundAtS === undefined ? null : new Date(accepted.lastInboundAtS * 1000).toISOString();
    throw new HttpError(
      422,
      'outside_customer_service_window',
      `the recipient's customer-service window on channel "${routed.channel}" is closed: only a template (or a body with a "fallback" template) can be sent`,
      [{ path: 'to', message: lastInboundAt === null ? 'no inbound message from this recipient is known' : `last inbound message at ${lastInboundAt}`, lastInboundAt }],
    );
  }
  if (accepted.kind === 'opted-out') {
    const optedOutAt = new Date(accepted.optedOutAtMs).toISOString();
    throw new HttpError(422, 'recipient_opted_out', `the recipient opted out on channel "${routed.channel}"`, [{ path: 'to', message: `opted out at ${optedOutAt}`, optedOutAt }]);
  }
  if (accepted.kind === 'created') {
    deps.metrics.accepted.inc({ caller: who });
    if (sendAt !== undefined) deps.metrics.scheduled.inc({ caller: who });
  }
  // A repeated key waits too: its first accept may be the write no replica has yet.
  await replicatedWithin(deps.replicated, deadline, 'send');
  deps.tracing?.annotate({ 'cbot_relay.message_id': accepted.id, 'cbot_relay.accept': accepted.kind });
  return { id: accepted.id, status: sendAt === undefined ? 'queued' : 'scheduled', window: accepted.window };
}

/** What a 202 says: the relay id, whether the message waits for its X-Relay-Send-At, and the recipient's customer-service window (X-Relay-Window). */
export interface Accepted {
  id: string;
  status: 'queued' | 'scheduled';
  /** The customer-service window the accept saw (X-Relay-Window). */
  window: WindowState;
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
    const accepted = await acceptMessage(deps, res.locals.caller as string, req.body, req.headers, answerDeadline(deps, res.locals));
    res.status(202).location(`/v1/messages/${accepted.id}`).setHeader(WINDOW_HEADER, accepted.window).json({ id: accepted.id, status: accepted.status });
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

/**
 * X-Relay-Send-At: an RFC 3339 time with Z or an offset. Returns the send time in ms when it is after
 * `now`, undefined when absent or not ahead (a past time means now); more than MAX_SEND_AHEAD_S ahead
 * is 400 send_at_too_far.
 */
export function readSendAt(headers: IncomingHttpHeaders, now: number): number | undefined {
  const v = headers['x-relay-send-at'];
  if (v === undefined) return undefined;
  const text = typeof v === 'string' ? v.trim().toUpperCase() : '';
  const ms = text.length <= 64 && SendAt.safeParse(text).success ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new HttpError(400, 'invalid_header', 'X-Relay-Send-At must be an RFC 3339 time with Z or an offset, e.g. 2026-12-24T09:00:00+01:00', [
      { path: 'X-Relay-Send-At', message: 'invalid' },
    ]);
  }
  if (ms - now > MAX_SEND_AHEAD_S * 1000) {
    throw new HttpError(400, 'send_at_too_far', `X-Relay-Send-At may be at most ${MAX_SEND_AHEAD_S / 86_400} days ahead`, [
      { path: 'X-Relay-Send-At', message: `more than ${MAX_SEND_AHEAD_S / 86_400} days ahead` },
    ]);
  }
  return ms > now ? ms : undefined;
}

/** X-Relay-Tag: 1 to 64 characters of [A-Za-z0-9._:-]. */
export function readTag(headers: IncomingHttpHeaders): string | undefined {
  const v = headers['x-relay-tag'];
  if (v === undefined) return undefined;
  const tag = typeof v === 'string' ? Tag.safeParse(v.trim()).data : undefined;
  if (tag === undefined) {
    throw new HttpError(400, 'invalid_header', 'X-Relay-Tag must be 1 to 64 characters of A-Z a-z 0-9 . _ : -', [{ path: 'X-Relay-Tag', message: 'invalid' }]);
  }
  return tag;
}
