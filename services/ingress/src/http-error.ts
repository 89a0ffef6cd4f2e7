import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '@cbot-relay/observability';

export interface ErrorDetail {
  path?: string;
  message: string;
}

/** An answer the ingress means to give; anything else thrown is a 500. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
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

export function sendError(res: Response, err: HttpError): void {
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
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

export function errorMiddleware(log: Logger, onError?: (route: string, status: number) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = err instanceof HttpError ? err : fromParserError((err ?? {}) as { type?: unknown; status?: unknown });
    const answer = known ?? new HttpError(500, 'internal', 'internal error');
    if (!known) log.error({ err, reqId: req.headers['x-request-id'] }, 'unhandled error');
    else if (answer.status === 503) log.warn({ err: (err as Error).cause, reqId: req.headers['x-request-id'] }, 'storage unavailable');
    onError?.(req.route?.path ?? req.path, answer.status);
    if (res.headersSent) return;
    sendError(res, answer);
  };
}
