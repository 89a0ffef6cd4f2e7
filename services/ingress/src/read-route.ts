import { Router, raw } from 'express';
import type { Request } from 'express';
import { READ_MAX_BODY_BYTES, ReadQuery, ReadRequest, Wamid } from '@cbot-relay/api';
import type { ReadAccepted } from '@cbot-relay/api';
import { AnswerTimeoutError } from './answer-deadline.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import type { SendRoutesDeps } from './send-routes.js';
import { admit, answerDeadline, caller, pauseDeadline, replicatedWithin, requireJson, resumeDeadline, routeChannel } from './send-routes.js';

const issuesOf = (issues: { path: PropertyKey[]; message: string; code: string; keys?: string[] }[]) =>
  issues.map((i) => ({ path: i.path.length > 0 ? i.path.join('.') : (i.keys?.join(',') ?? ''), message: i.message }));

/** `?channel=`, checked against the channels and the key's allowed list as a send's `channel` field is. */
function channelOf(deps: SendRoutesDeps, who: string, query: unknown): string {
  const q = ReadQuery.safeParse(query);
  if (!q.success) {
    // An unknown id is the contract's 400 unknown_channel, whatever its spelling; other query keys are invalid_query.
    const named = (query as Record<string, unknown>).channel;
    if (typeof named === 'string' && q.error.issues.every((i) => i.path[0] === 'channel')) return routeChannel(deps.channels, who, { channel: named }, '').channel;
    throw new HttpError(400, 'invalid_query', 'the query is not valid for POST /v1/messages/{wamid}/read', issuesOf(q.error.issues));
  }
  return routeChannel(deps.channels, who, q.data.channel === undefined ? {} : { channel: q.data.channel }, '').channel;
}

/** The optional body: none (or empty) is `{}`; otherwise JSON of exactly ReadRequest's shape. */
function typingOf(req: Request): boolean {
  const body = req.body as unknown;
  const empty = !Buffer.isBuffer(body) || body.length === 0;
  if (empty) return false;
  const { value } = readJson(body);
  const parsed = ReadRequest.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the body is not {"typing"?: boolean}', issuesOf(parsed.error.issues));
  return parsed.data.typing === true;
}

/**
 * POST /v1/messages/{wamid}/read?channel= (API key): marks an inbound message read, with the typing
 * indicator when `{"typing": true}`. 202 once the receipt is durable in Redis; the dispatcher sends it
 * ahead of every queued message of the channel, within the channel's rate (docs/read-receipts.md).
 * Once per wamid and channel for 24 h: a repeat is 202 `duplicate: true` and sends nothing.
 */
export function readRoute(deps: SendRoutesDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: READ_MAX_BODY_BYTES });

  r.post(
    '/v1/messages/:wamid/read',
    async (req, res, next) => {
      res.locals.caller = caller(deps.keys, req.headers);
      const wamid = Wamid.safeParse(req.params.wamid);
      if (!wamid.success) throw new HttpError(400, 'invalid_wamid', 'the path does not hold a CBOT message id', [{ path: 'wamid', message: 'expected 1 to 256 of A-Z a-z 0-9 . _ : = + / -' }]);
      res.locals.wamid = wamid.data;
      res.locals.channel = channelOf(deps, res.locals.caller as string, req.query);
      await admit(deps, res.locals.caller as string, res, answerDeadline(deps, res.locals));
      // A body is optional; one that is there must say it is JSON.
      const declared = req.headers['content-length'];
      if ((declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined) requireJson(req.headers);
      next();
    },
    pauseDeadline,
    body,
    resumeDeadline,
    async (req, res) => {
      const typing = typingOf(req);
      const who = res.locals.caller as string;
      const channel = res.locals.channel as string;
      const wamid = res.locals.wamid as string;
      const deadline = answerDeadline(deps, res.locals);
      let accepted;
      try {
        const accepting = deps.outbound.acceptReceipt({ wamid, channel, typing, caller: who, nowMs: deps.now() });
        accepted = await (deadline ? deadline.within(accepting, () => new AnswerTimeoutError('send')) : accepting);
      } catch (err) {
        if (err instanceof AnswerTimeoutError) throw err;
        throw new UnavailableError(err);
      }
      if (accepted === 'full') {
        throw new HttpError(429, 'backlog_full', 'too many read receipts are waiting on this channel; retry later', [], { 'Retry-After': '5' });
      }
      deps.metrics.readReceipts.inc({ channel, outcome: accepted === 'created' ? 'accepted' : 'duplicate' });
      await replicatedWithin(deps.replicated, deadline, 'send');
      const answer: ReadAccepted = { wamid, channel, status: 'queued', duplicate: accepted === 'duplicate' };
      res.status(202).json(answer);
    },
  );
  return r;
}
