import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Router, raw } from 'express';
import type { RequestHandler } from 'express';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { AnswerDeadline } from './answer-deadline.js';
import { AnswerTimeoutError } from './answer-deadline.js';
import { basicMatches } from './auth.js';
import type { BodyBudget } from './body-budget.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import { answerDeadline, replicatedWithin } from './send-routes.js';

export interface WebhookCredentials {
  basic: { user: string; pass: string } | undefined;
  appSecret: string | undefined;
  /** With an app secret and no Basic: an unsigned callback is refused (CHANNELS_FILE channels), not let through. */
  requireSignature?: boolean;
}

export interface WebhookDeps extends WebhookCredentials {
  maxBodyBytes: number;
  /**
   * Each channel's callback credentials, by id (`POST /webhooks/cbot/<id>`); `POST /webhooks/cbot` is
   * `defaultChannel`'s. Absent: one channel `default` with `basic` and `appSecret` above.
   */
  channels?: ReadonlyMap<string, WebhookCredentials>;
  defaultChannel?: string;
  /** Makes the callback durable (the inbound queue) for its channel; resolves only once Redis has it. */
  enqueue: (raw: string, receivedAt: number, channel: string) => Promise<void>;
  now: () => number;
  log: Logger;
  metrics: Metrics;
  /** Bodies held at once; set by the app. The express path charges the declared size (or the limit) up front. */
  budget?: BodyBudget;
  /** REDIS_ANSWER_TIMEOUT_MS: a callback is answered (200 or 503) within this of its body arriving. */
  answerTimeoutMs?: number;
  /** REDIS_WAIT_REPLICAS: as SendRoutesDeps.replicated, after the callback's add. */
  replicated?: () => Promise<boolean>;
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, [], { 'WWW-Authenticate': 'Basic realm="cbot-relay"' });

/** The channel a callback path names (undefined: the bare path, the default channel) and its credentials; unknown → 404. */
export function callbackChannel(deps: WebhookDeps, named: string | undefined): { channel: string; creds: WebhookCredentials } {
  const fallback = deps.defaultChannel ?? 'default';
  const channel = named ?? fallback;
  if (deps.channels === undefined) {
    if (channel !== fallback) throw new HttpError(404, 'not_found', 'no such channel');
    return { channel, creds: deps };
  }
  const creds = deps.channels.get(channel);
  if (creds === undefined) throw new HttpError(404, 'not_found', 'no such channel');
  return { channel, creds };
}

/**
 * Everything about a callback's credentials that can be decided before its body is read, so a
 * refused caller never makes us buffer up to WEBHOOK_MAX_BODY_BYTES. Returns whether the callback is
 * signed: CBOT_APP_SECRET is set and X-Hub-Signature-256 looks like `sha256=` + 64 hex digits; its
 * HMAC is checked once the body is read, and it stands in for Basic (the Cloud API sends no Basic).
 * An empty signature header is no signature. A malformed one can never verify, so it is refused now.
 * Without an app secret the header means nothing and Basic is required as usual.
 */
export function authenticateCallback(deps: WebhookCredentials, headers: IncomingHttpHeaders): boolean {
  const given = headers['x-hub-signature-256'];
  // Node joins a repeated header with ", ", which no longer looks like a signature.
  const signature = typeof given === 'string' ? given.trim() : '';
  if (deps.appSecret !== undefined && signature !== '') {
    if (!SIGNATURE.test(signature)) throw unauthorized('X-Hub-Signature-256 must be sha256= and 64 hex digits');
    return true;
  }
  if (deps.requireSignature && deps.appSecret !== undefined && deps.basic === undefined) {
    throw unauthorized('callback signature (X-Hub-Signature-256) missing');
  }
  if (deps.basic && !basicMatches(headers.authorization, deps.basic.user, deps.basic.pass)) {
    throw unauthorized('callback credentials missing or wrong');
  }
  return false;
}

/**
 * Makes the raw callback durable (the inbound queue). The caller answers 200 only after this
 * resolves: a crash after the answer loses nothing, and a crash before it is retried by CBOT.
 * Splitting into events happens in fanout.
 */
export async function acceptCallback(
  deps: WebhookDeps,
  signed: boolean,
  headers: IncomingHttpHeaders,
  bytes: unknown,
  route: { channel: string; creds: WebhookCredentials } = callbackChannel(deps, undefined),
  deadline?: AnswerDeadline,
): Promise<void> {
  if (signed) {
    const header = String(headers['x-hub-signature-256']);
    if (!Buffer.isBuffer(bytes) || !signatureValid(header, bytes, route.creds.appSecret ?? '')) {
      throw new HttpError(401, 'unauthorized', 'X-Hub-Signature-256 does not match the body');
    }
  }
  // A duplicate or reserved key is kept, not refused: a 400 would make CBOT retry the same bytes
  // until it gives up, losing the callback. Fanout reads it with JSON.parse, where the last duplicate
  // wins and `__proto__` is a plain own property, never a prototype.
  const { text, keyIssue } = readJson(bytes, { keys: 'report' });
  if (keyIssue) deps.log.warn({ path: keyIssue.path, issue: keyIssue.message }, 'callback kept although it has an odd key');
  const receivedAt = deps.now();
  try {
    const adding = deps.enqueue(text, receivedAt, route.channel);
    // Past the deadline the add may still land: CBOT's redelivery is then dropped as a duplicate.
    await (deadline ? deadline.within(adding, () => new AnswerTimeoutError('callback')) : adding);
  } catch (err) {
    if (err instanceof AnswerTimeoutError) throw err;
    throw new UnavailableError(err);
  }
  await replicatedWithin(deps.replicated, deadline, 'callback');
  deps.metrics.callbacks.inc();
}

/** POST /webhooks/cbot on express, for what the hot path (hot-routes.ts) leaves to it. */
export function webhookRoute(deps: WebhookDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: deps.maxBodyBytes });
  const authenticate: RequestHandler = (req, res, next) => {
    const route = callbackChannel(deps, typeof req.params.channel === 'string' ? req.params.channel : undefined);
    res.locals.route = route;
    res.locals.signed = authenticateCallback(route.creds, req.headers);
    const declared = Number(req.headers['content-length']);
    deps.budget?.charge(res, Number.isInteger(declared) && declared >= 0 ? Math.min(declared, deps.maxBodyBytes) : deps.maxBodyBytes);
    next();
  };
  const accept: RequestHandler = async (req, res) => {
    const route = res.locals.route as { channel: string; creds: WebhookCredentials };
    await acceptCallback(deps, res.locals.signed === true, req.headers, req.body, route, answerDeadline(deps, res.locals));
    res.status(200).json({ status: 'ok' });
  };
  // The deadline starts with the body in (nothing waits on Redis before it).
  const start: RequestHandler = (_req, res, next) => {
    answerDeadline(deps, res.locals);
    next();
  };
  r.post('/webhooks/cbot', authenticate, body, start, accept);
  r.post('/webhooks/cbot/:channel', authenticate, body, start, accept);
  return r;
}

export function signatureValid(header: string, body: Buffer, secret: string): boolean {
  const m = SIGNATURE.exec(header.trim());
  if (!m?.[1]) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1].toLowerCase(), 'hex'), expected);
}
