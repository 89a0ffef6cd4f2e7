import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@cbot-relay/api';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '@cbot-relay/observability';

export interface ErrorDetail {
  path?: string;
  message: string;
}

/** An answer the ingress means to give; anything else thrown is a 500. Its code must be one of ERROR_CODES (@cbot-relay/api). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Redis did not answer: nothing was accepted, so the caller may safely retry. */
export class UnavailableError extends HttpError {
  constructor(cause: unknown) {
    super(503, 'unavailable', 'storage is unavailable; nothing was accepted, retry later', [], { 'Retry-After': '1' });
    this.cause = cause;
  }
}

/**
 * REDIS_WAIT_REPLICAS: the write is in the primary but fewer replicas than asked had it within
 * REDIS_WAIT_TIMEOUT_MS, so a failover could lose it. A retry with the same Idempotency-Key returns
 * the message (and waits again); CBOT redelivers a callback, deduplicated downstream.
 */
export class ReplicationTimeoutError extends HttpError {
  constructor(cause?: unknown) {
    super(503, 'replication_timeout', 'the write reached fewer replicas than REDIS_WAIT_REPLICAS in time; retry with the same Idempotency-Key', [], {
      'Retry-After': '1',
    });
    if (cause !== undefined) this.cause = cause;
  }
}

/** What express's `res.status(s).json(v)` writes, on a bare node response (the hot routes use it too). */
export function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  writeJson(res, err.status, { error: { code: err.code, message: err.message, details: err.details } });
}

/** body-parser and friends mark their errors with `type` and `status`; map them without echoing input. */
function fromParserError(err: { type?: unknown; status?: unknown }): HttpError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', 'request body encoding is not supported');
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'request was aborted');
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new HttpError(400, 'bad_request', 'request body could not be read');
    default:
      return typeof err.status === 'number' && err.status >= 400 && err.status < 500
        ? new HttpError(err.status, 'bad_request', 'request could not be read')
        : undefined;
  }
}

/**
 * The `route` label of a refused request (relay_requests_rejected_total). It comes only from route
 * templates declared in code (`/v1/messages/:id`), never from the URL: a label per distinct path would
 * let anyone grow the registry without bound (thousands of 8 KB paths exhaust the heap in seconds).
 */
export type OnRejected = (route: string, status: number) => void;

/** The label of a request no route matched (or refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Route template for the metric label: the matched route's declared path, else what a mount named, else `unmatched`. */
export function routeLabel(req: { route?: { path?: unknown } }, locals: Record<string, unknown>): string {
  const declared = req.route?.path;
  if (typeof declared === 'string') return declared;
  return typeof locals.route === 'string' ? locals.route : UNMATCHED_ROUTE;
}

/** A refused request's unread body is read and dropped (keeping the connection) up to this size. */
const DRAIN_REFUSED_BYTES = 64 * 1024;

/** Answers whatever a route threw: its own HttpError, a body-reading error mapped, anything else a logged 500. */
export function answerError(err: unknown, reqId: unknown, route: string, res: ServerResponse, log: Logger, onError?: OnRejected): void {
  const known = err instanceof HttpError ? err : fromParserError((err ?? {}) as { type?: unknown; status?: unknown });
  const answer = known ?? new HttpError(500, 'internal', 'internal error');
  if (!known) log.error({ err, reqId }, 'unhandled error');
  else if (answer instanceof UnavailableError) log.warn({ err: (err as Error).cause, reqId }, 'storage unavailable');
  onError?.(route, answer.status);
  if (res.headersSent) return;
  // Refused before its body was read (401, 415, 429…): Node would read and drop the rest to keep the
  // connection. Worth it for a small declared body (a caller's next request reuses the connection);
  // a large or undeclared one is not read: the connection closes after the answer.
  const req = res.req as IncomingMessage | undefined;
  if (req && !req.complete && req.readableFlowing === null && !(Number(req.headers['content-length']) <= DRAIN_REFUSED_BYTES)) {
    res.setHeader('Connection', 'close');
  }
  sendError(res, answer);
}

export function errorMiddleware(log: Logger, onError?: OnRejected): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    answerError(err, req.headers['x-request-id'], routeLabel(req, res.locals), res, log, onError);
  };
}
