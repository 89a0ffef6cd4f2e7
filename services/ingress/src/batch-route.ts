import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import type { BodyBudget } from './body-budget.js';
import { readBody } from './hot-routes.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import type { SendRoutesDeps } from './send-routes.js';
import { acceptMessage, admit, caller, readExpiresIn, readPriority, requireJson } from './send-routes.js';

export const BATCH_MAX_ITEMS = 100;
/** The whole batch request; each item is still held to INGRESS_MAX_BODY_BYTES on its own. */
export const BATCH_MAX_BODY_BYTES = 1024 * 1024;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export type BatchResult = { status: 202; id: string } | { status: number; error: { code: string; message: string; details: unknown[] } };

const refuse = (details: { path: string; message: string }[]) =>
  new HttpError(400, 'invalid_request', `body must be {"messages": [1 to ${BATCH_MAX_ITEMS} send bodies]}`, details);

/** The items of `{"messages": [...]}`, or the whole request's 400. */
function batchItems(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw refuse([{ path: '', message: 'must be a JSON object' }]);
  const extra = Object.keys(value).filter((k) => k !== 'messages');
  if (extra.length > 0) throw refuse(extra.slice(0, 10).map((k) => ({ path: k.slice(0, 64), message: 'unknown field' })));
  const messages = (value as { messages?: unknown }).messages;
  if (!Array.isArray(messages)) throw refuse([{ path: 'messages', message: messages === undefined ? 'required' : 'must be an array' }]);
  if (messages.length < 1 || messages.length > BATCH_MAX_ITEMS) {
    throw refuse([{ path: 'messages', message: `must hold 1 to ${BATCH_MAX_ITEMS} items, got ${messages.length}` }]);
  }
  return messages;
}

const itemError = (err: HttpError): BatchResult => ({ status: err.status, error: { code: err.code, message: err.message, details: err.details } });

/**
 * One item as a single send: its own Idempotency-Key (from `idempotencyKey`), the batch's priority
 * and expiry headers, the same checks and the same accept. Resolves to the item's result, never throws.
 */
function acceptItem(deps: SendRoutesDeps, who: string, item: unknown, headers: IncomingHttpHeaders): Promise<BatchResult> {
  const fail = (err: unknown) => {
    if (!(err instanceof HttpError)) deps.log.error({ err }, 'batch item failed');
    return Promise.resolve(itemError(err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error')));
  };
  let message = item;
  const itemHeaders: IncomingHttpHeaders = { ...headers };
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.hasOwn(item, 'idempotencyKey')) {
    const { idempotencyKey, ...rest } = item as { idempotencyKey: unknown };
    if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      return fail(new HttpError(400, 'invalid_message', 'the item is not a valid message', [{ path: 'idempotencyKey', message: 'must be 1 to 255 visible ASCII characters' }]));
    }
    itemHeaders['idempotency-key'] = idempotencyKey;
    message = rest;
  }
  const text = Buffer.from(JSON.stringify(message) ?? '', 'utf8');
  if (text.length > deps.maxBodyBytes) return fail(new HttpError(413, 'payload_too_large', `the item is larger than ${deps.maxBodyBytes} bytes`));
  // Runs synchronously up to the accept, so the items are submitted in order and go to Redis together.
  return acceptMessage(deps, who, text, itemHeaders).then((id): BatchResult => ({ status: 202, id }), fail);
}

/**
 * POST /v1/messages/batch: 1–100 send bodies, each made durable or refused on its own (207 with one
 * result per item, in order). The accepts are submitted together in item order, so Outbound.accept
 * sends them to Redis in one script call (in order: a recipient's messages keep the batch's order).
 */
export function batchRoute(deps: SendRoutesDeps & { budget?: BodyBudget }): Router {
  const r = Router();
  r.post('/v1/messages/batch', async (req, res) => {
    const who = caller(deps.keys, req.headers);
    await admit(deps, who, res);
    requireJson(req.headers);
    if (req.headers['idempotency-key'] !== undefined) {
      throw new HttpError(400, 'invalid_header', 'a batch takes no Idempotency-Key header; give each item its own "idempotencyKey"', [
        { path: 'Idempotency-Key', message: 'not allowed on a batch' },
      ]);
    }
    readPriority(req.headers);
    readExpiresIn(req.headers);
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new HttpError(415, 'unsupported_encoding', 'a batch body must not be compressed (Content-Encoding)');
    }
    const items = batchItems(readJson(await readBody(req, res, BATCH_MAX_BODY_BYTES, deps.budget)).value);
    const results = await Promise.all(items.map((item) => acceptItem(deps, who, item, req.headers)));
    // Redis refused every item: nothing was accepted, so the whole request is a 503 the caller may retry.
    if (results.every((x) => x.status === 503)) throw new UnavailableError(new Error('every batch item failed in Redis'));
    if (results.some((x) => x.status === 429)) res.setHeader('Retry-After', '5');
    res.status(207).json({ results });
  });
  return r;
}
