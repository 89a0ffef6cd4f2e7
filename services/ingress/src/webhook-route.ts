import { createHmac, timingSafeEqual } from 'node:crypto';
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
 * POST /webhooks/cbot. Answers 200 only after the raw callback is in Redis: a crash after the answer
 * loses nothing, and a crash before it is retried by CBOT. Splitting into events happens in fanout.
 */
export function webhookRoute(deps: WebhookDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: deps.maxBodyBytes });

  // A signed callback (when CBOT_APP_SECRET is set) is checked after reading the body; Basic before.
  const basicFirst: RequestHandler = (req, res, next) => {
    const signed = deps.appSecret !== undefined && req.headers['x-hub-signature-256'] !== undefined;
    res.locals.signed = signed;
    if (!signed && deps.basic && !basicMatches(req.headers.authorization, deps.basic.user, deps.basic.pass)) {
      throw new HttpError(401, 'unauthorized', 'callback credentials missing or wrong', [], {
        'WWW-Authenticate': 'Basic realm="cbot-relay"',
      });
    }
    next();
  };

  r.post('/webhooks/cbot', basicFirst, body, async (req, res) => {
    const bytes: unknown = req.body;
    if (res.locals.signed === true) {
      const header = String(req.headers['x-hub-signature-256']);
      if (!Buffer.isBuffer(bytes) || !signatureValid(header, bytes, deps.appSecret ?? '')) {
        throw new HttpError(401, 'unauthorized', 'X-Hub-Signature-256 does not match the body');
      }
    }
    const { text } = readJson(bytes);
    const receivedAt = deps.now();
    try {
      await deps.enqueue(text, receivedAt);
    } catch (err) {
      throw new UnavailableError(err);
    }
    deps.metrics.callbacks.inc();
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
