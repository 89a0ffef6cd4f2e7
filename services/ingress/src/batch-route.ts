import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import type { BatchResult } from '@cbot-relay/api';
import { BATCH_MAX, BATCH_MAX_BODY_BYTES, BatchEnvelope, IdempotencyKey } from '@cbot-relay/api';
import type { BodyBudget } from './body-budget.js';
import { AnswerTimeoutError } from './answer-deadline.js';
import type { AnswerDeadline } from './answer-deadline.js';
import { readBody } from './hot-routes.js';
import { HttpError, ReplicationTimeoutError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import type { SendRoutesDeps } from './send-routes.js';
import { acceptMessage, admit, answerDeadline, caller, readExpiresIn, readPriority, readSendAt, readTag, requireJson } from './send-routes.js';

/** The items of `{"messages": [...]}` (BatchEnvelope, the schema the description is built from), or the whole request's 400. */
function batchItems(value: unknown): unknown[] {
  const parsed = BatchEnvelope.safeParse(value);
  if (parsed.success) return parsed.data.messages;
  const details = parsed.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.slice(0, 10).map((k) => ({ path: k.slice(0, 64), message: i.message }))
      : [{ path: i.path.join('.'), message: i.message }],
  );
  throw new HttpError(400, 'invalid_request', `body must be {"messages": [1 to ${BATCH_MAX} send bodies]}`, details);
}

const ITEM_HEADERS = [
  ['sendAt', 'x-relay-send-at'],
  ['tag', 'x-relay-tag'],
] as const;

const itemError = (err: HttpError): BatchResult => ({ status: err.status, error: { code: err.code, message: err.message, details: err.details } });

/**
 * One item as a single send: its own Idempotency-Key (from `idempotencyKey`), the batch's priority
 * and expiry headers, the same checks and the same accept. Resolves to the item's result, never throws.
 */
export function acceptItem(deps: SendRoutesDeps, who: string, item: unknown, headers: IncomingHttpHeaders, deadline?: AnswerDeadline, onLate?: () => void): Promise<BatchResult> {
  const fail = (err: unknown) => {
    if (err instanceof AnswerTimeoutError) onLate?.();
    if (!(err instanceof HttpError)) deps.log.error({ err }, 'batch item failed');
    return Promise.resolve(itemError(err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error')));
  };
  let message = item;
  const itemHeaders: IncomingHttpHeaders = { ...headers };
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.hasOwn(item, 'idempotencyKey')) {
    const { idempotencyKey, ...rest } = item as { idempotencyKey: unknown };
    if (typeof idempotencyKey !== 'string' || !IdempotencyKey.safeParse(idempotencyKey).success) {
      return fail(new HttpError(400, 'invalid_message', 'the item is not a valid message', [{ path: 'idempotencyKey', message: 'must be 1 to 255 visible ASCII characters' }]));
    }
    itemHeaders['idempotency-key'] = idempotencyKey;
    message = rest;
  }
  // `sendAt` and `tag` are the item's X-Relay-Send-At and X-Relay-Tag (over the batch's headers), checked as those are.
  for (const [field, header] of ITEM_HEADERS) {
    if (message === null || typeof message !== 'object' || Array.isArray(message) || !Object.hasOwn(message, field)) continue;
    const { [field]: given, ...rest } = message as Record<string, unknown>;
    if (typeof given !== 'string') {
      return fail(new HttpError(400, 'invalid_message', 'the item is not a valid message', [{ path: field, message: 'must be a string' }]));
    }
    itemHeaders[header] = given;
    message = rest;
  }
  const text = Buffer.from(JSON.stringify(message) ?? '', 'utf8');
  if (text.length > deps.maxBodyBytes) return fail(new HttpError(413, 'payload_too_large', `the item is larger than ${deps.maxBodyBytes} bytes`));
  // Runs synchronously up to the accept, so the items are submitted in order and go to Redis together.
  return acceptMessage(deps, who, text, itemHeaders, deadline).then(({ id, window }): BatchResult => ({ status: 202, id, window }), fail);
}

/**
 * The headers of a request that carries many sends (a batch, a stream), checked before its body: no
 * Idempotency-Key (each item has its own), valid priority, expiry, send time and tag for every item,
 * no Content-Encoding.
 */
export function checkManyHeaders(headers: IncomingHttpHeaders, nowMs: number, what: 'batch' | 'stream', part: 'item' | 'line'): void {
  if (headers['idempotency-key'] !== undefined) {
    throw new HttpError(400, 'invalid_header', `a ${what} takes no Idempotency-Key header; give each ${part} its own "idempotencyKey"`, [
      { path: 'Idempotency-Key', message: `not allowed on a ${what}` },
    ]);
  }
  readPriority(headers);
  readExpiresIn(headers);
  readSendAt(headers, nowMs);
  readTag(headers);
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new HttpError(415, 'unsupported_encoding', `a ${what} body must not be compressed (Content-Encoding)`);
  }
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
    const due = answerDeadline(deps, res.locals);
    await admit(deps, who, res, due);
    requireJson(req.headers);
    checkManyHeaders(req.headers, deps.now(), 'batch', 'item');
    const items = batchItems(readJson(await readBody(req, res, BATCH_MAX_BODY_BYTES, deps.budget, due)).value);
    let late = false;
    const results = await Promise.all(items.map((item) => acceptItem(deps, who, item, req.headers, due, () => (late = true))));
    // Redis refused every item: nothing was accepted, so the whole request is a 503 the caller may retry.
    // Redis too slow: the items may still be accepted; a retry with the items' idempotencyKeys returns them.
    // Every item written but short of replicas: the batch's answer is that 503 (retry with the items' keys).
    if (results.every((x) => x.status === 503)) {
      if (late) throw new AnswerTimeoutError('send');
      if (results.every((x) => 'error' in x && x.error.code === 'replication_timeout')) throw new ReplicationTimeoutError();
      throw new UnavailableError(new Error('every batch item failed in Redis'));
    }
    if (results.some((x) => x.status === 429)) res.setHeader('Retry-After', '5');
    res.status(207).json({ results });
  });
  return r;
}
