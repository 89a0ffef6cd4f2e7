import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@cbot-relay/observability';
import { AnswerDeadline } from './answer-deadline.js';
import { requireSingleAuthorization } from './auth.js';
import type { BodyBudget } from './body-budget.js';
import type { OnRejected } from './http-error.js';
import { HttpError, answerError, writeJson } from './http-error.js';
import type { SendRoutesDeps } from './send-routes.js';
import { WINDOW_HEADER, acceptMessage, admit, caller, requireJson } from './send-routes.js';
import type { WebhookDeps } from './webhook-route.js';
import { acceptCallback, authenticateCallback, callbackChannel } from './webhook-route.js';

export interface HotRoutesDeps {
  send: SendRoutesDeps;
  webhook: WebhookDeps;
  log: Logger;
  /** Sets the headers every answer carries; returns the request id. */
  prepare: (req: IncomingMessage, res: ServerResponse) => string;
  onRejected: OnRejected;
  /** Bodies held at once across requests; a read past it is 503. */
  budget?: BodyBudget;
}

const SEND = '/v1/messages';
const WEBHOOK = '/webhooks/cbot';
const CHANNEL_WEBHOOK = '/webhooks/cbot/';

/**
 * POST /v1/messages and POST /webhooks/cbot on bare node:http: every message and callback takes one
 * of them, and express's router, body parser and response helpers cost the ingress about twice the
 * CPU of the work itself (docs/performance.md). The checks, their order and the answers are the
 * express routes' own functions (send-routes.ts, webhook-route.ts).
 *
 * Returns false, without touching the request, for anything else: other routes and methods, paths
 * express would also match (a trailing slash, other case) and a body with a Content-Encoding, which
 * express's parser inflates.
 */
export function hotRoutes(deps: HotRoutesDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const deadline = (ms: number | undefined) => (ms === undefined ? undefined : new AnswerDeadline(ms));

  const send = async (req: IncomingMessage, res: ServerResponse) => {
    const due = deadline(deps.send.answerTimeoutMs);
    requireSingleAuthorization(req.rawHeaders);
    const who = caller(deps.send.keys, req.headers);
    await admit(deps.send, who, res, due);
    requireJson(req.headers);
    const body = await readBody(req, res, deps.send.maxBodyBytes, deps.budget, due);
    const accepted = await acceptMessage(deps.send, who, body, req.headers, due);
    res.setHeader('Location', `${SEND}/${accepted.id}`);
    res.setHeader(WINDOW_HEADER, accepted.window);
    writeJson(res, 202, { id: accepted.id, status: accepted.status });
  };

  const webhook = async (req: IncomingMessage, res: ServerResponse, named: string | undefined) => {
    requireSingleAuthorization(req.rawHeaders);
    const route = callbackChannel(deps.webhook, named);
    const signed = authenticateCallback(route.creds, req.headers);
    const due = deadline(deps.webhook.answerTimeoutMs);
    const body = await readBody(req, res, deps.webhook.maxBodyBytes, deps.budget, due);
    await acceptCallback(deps.webhook, signed, req.headers, body, route, due);
    writeJson(res, 200, { status: 'ok' });
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // /webhooks/cbot/<channel>: one path segment of channel-id characters (anything else is express's 404).
    const channelPath = path.startsWith(CHANNEL_WEBHOOK) && /^[A-Za-z0-9_-]{1,64}$/.test(path.slice(CHANNEL_WEBHOOK.length));
    if (path !== SEND && path !== WEBHOOK && !channelPath) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
    const reqId = deps.prepare(req, res);
    const work = path === SEND ? send(req, res) : webhook(req, res, channelPath ? path.slice(CHANNEL_WEBHOOK.length) : undefined);
    work.catch((err: unknown) => answerError(err, reqId, path, res, deps.log, deps.onRejected));
    return true;
  };
}

/** After a 413, up to this much more of the body is read and dropped so the connection can be reused. */
const DRAIN_BYTES = 1 << 20;

/**
 * The whole body, at most `limit` bytes; over the limit (declared or sent) it is a 413 answered at
 * once. As with express's parser, the rest of the body is then read and dropped so the client sees
 * the answer and may reuse the connection; past DRAIN_BYTES more the connection is closed instead.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number, budget?: BodyBudget, deadline?: AnswerDeadline): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', 'request body is too large');
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    // Node drops an unread body itself once the answer is sent; a huge one is not worth reading.
    if (declared > limit + DRAIN_BYTES) res.setHeader('Connection', 'close');
    return Promise.reject(tooLarge());
  }
  // The client hung up while the request waited (for admission, say) before its body was read: the
  // stream's 'close' has been and gone, and a listener added now would wait for ever.
  if (req.destroyed) return Promise.reject(new HttpError(400, 'request_aborted', 'request was aborted'));
  // The time the client takes to send its body is not counted against the wait on Redis.
  deadline?.pause();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      deadline?.resume();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        drop(req, DRAIN_BYTES);
        reject(tooLarge());
        return;
      }
      try {
        budget?.charge(res, chunk.length);
      } catch (err) {
        // Refused with Connection: close; what still arrives is not kept.
        stop();
        reject(err);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      // The body is in: from here the request waits on us, not on the client (the idle guard is off).
      if (!res.writableEnded) req.socket?.setTimeout(0);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAborted = () => {
      stop();
      reject(new HttpError(400, 'request_aborted', 'request was aborted'));
    };
    const onClose = () => {
      if (!req.complete) onAborted();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAborted);
    req.on('close', onClose);
  });
}

/** Reads and discards the rest of a request body; past `max` bytes it closes the connection. */
function drop(req: IncomingMessage, max: number): void {
  let dropped = 0;
  req.on('error', () => undefined);
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > max) req.socket.destroy();
  });
}
