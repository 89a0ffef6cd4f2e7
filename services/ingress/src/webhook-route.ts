import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Router, raw } from 'express';
import type { RequestHandler } from 'express';
import type { Logger, Metrics } from '@cbot-relay/observability';
import { basicMatches } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';

export interface WebhookDeps {
  basic: { user: string; pass: string } | undefined;
  appSecret: string | undefined;
  maxBodyBytes: number;
  /** Makes the callback durable (the inbound queue); resolves only once Redis has it. */
  enqueue: (raw: string, receivedAt: number) => Promise<void>;
  now: () => number;
  log: Logger;
  metrics: Metrics;
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks Basic credentials, which come before the body is read. Returns whether the callback is
 * signed (X-Hub-Signature-256 with CBOT_APP_SECRET set): its signature is checked on the body instead.
 */
export function authenticateCallback(deps: WebhookDeps, headers: IncomingHttpHeaders): boolean {
  const signed = deps.appSecret !== undefined && headers['x-hub-signature-256'] !== undefined;
  if (!signed && deps.basic && !basicMatches(headers.authorization, deps.basic.user, deps.basic.pass)) {
    throw new HttpError(401, 'unauthorized', 'callback credentials missing or wrong', [], {
      'WWW-Authenticate': 'Basic realm="cbot-relay"',
    });
  }
  return signed;
}

/**
 * Makes the raw callback durable (the inbound queue). The caller answers 200 only after this
 * resolves: a crash after the answer loses nothing, and a crash before it is retried by CBOT.
 * Splitting into events happens in fanout.
 */
export async function acceptCallback(deps: WebhookDeps, signed: boolean, headers: IncomingHttpHeaders, bytes: unknown): Promise<void> {
  if (signed) {
    const header = String(headers['x-hub-signature-256']);
    if (!Buffer.isBuffer(bytes) || !signatureValid(header, bytes, deps.appSecret ?? '')) {
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
    await deps.enqueue(text, receivedAt);
  } catch (err) {
    throw new UnavailableError(err);
  }
  deps.metrics.callbacks.inc();
}

/** POST /webhooks/cbot on express, for what the hot path (hot-routes.ts) leaves to it. */
export function webhookRoute(deps: WebhookDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: deps.maxBodyBytes });
  const authenticate: RequestHandler = (req, res, next) => {
    res.locals.signed = authenticateCallback(deps, req.headers);
    next();
  };
  r.post('/webhooks/cbot', authenticate, body, async (req, res) => {
    await acceptCallback(deps, res.locals.signed === true, req.headers, req.body);
    res.status(200).json({ status: 'ok' });
  });
  return r;
}

export function signatureValid(header: string, body: Buffer, secret: string): boolean {
  const m = SIGNATURE.exec(header.trim());
  if (!m?.[1]) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1].toLowerCase(), 'hex'), expected);
}
