import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import { LIST_DEFAULT_LIMIT, ListQuery } from '@cbot-relay/api';
import { normalizeRecipient } from '@cbot-relay/messages';
import type { ListQuery as StoreListQuery, MessageRecord } from '@cbot-relay/records';
import { decodeCursor, encodeCursor } from '@cbot-relay/records';
import { bearerToken } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import type { SendRoutesDeps } from './send-routes.js';
import { caller } from './send-routes.js';

/**
 * Who is listing: a caller key (RELAY_API_KEYS) sees its own messages, an admin key
 * (RELAY_ADMIN_KEYS) everyone's. Undefined `caller` means every caller.
 */
function lister(deps: SendRoutesDeps, headers: IncomingHttpHeaders): { caller?: string } {
  const token = bearerToken(headers.authorization);
  const adminKeys = deps.adminKeys;
  if (token !== undefined && adminKeys !== undefined && deps.keys.match(token) === undefined && adminKeys.match(token) !== undefined) return {};
  return { caller: caller(deps.keys, headers) };
}

export function listQueryFrom(raw: unknown): Omit<StoreListQuery, 'caller'> {
  const parsed = ListQuery.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.length > 0 ? i.path.join('.') : (i.code === 'unrecognized_keys' ? i.keys.join(',') : ''), message: i.message }));
    throw new HttpError(400, 'invalid_query', 'the query is not valid for GET /v1/messages', details);
  }
  const q = parsed.data;
  const out: Omit<StoreListQuery, 'caller'> = { limit: q.limit ?? LIST_DEFAULT_LIMIT };
  if (q.to !== undefined) out.to = normalizeRecipient(q.to);
  if (q.status !== undefined) out.status = q.status;
  if (q.since !== undefined) out.sinceMs = Date.parse(q.since);
  if (q.until !== undefined) out.untilMs = Date.parse(q.until);
  if (out.sinceMs !== undefined && out.untilMs !== undefined && out.sinceMs >= out.untilMs) {
    throw new HttpError(400, 'invalid_query', 'the query is not valid for GET /v1/messages', [{ path: 'until', message: 'must be after since' }]);
  }
  if (q.cursor !== undefined) {
    const cursor = decodeCursor(q.cursor);
    if (!cursor) throw new HttpError(400, 'invalid_query', 'the query is not valid for GET /v1/messages', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    out.cursor = cursor;
  }
  return out;
}

/** GET /v1/messages: the caller's messages (an admin's: everyone's), newest first, one page. */
export function listRoute(deps: SendRoutesDeps): Router {
  const r = Router();
  r.get('/v1/messages', async (req, res) => {
    const who = lister(deps, req.headers);
    const q = listQueryFrom(req.query);
    let page;
    try {
      page = await (deps.history ?? deps.store).list({ ...q, ...who });
    } catch (err) {
      throw new UnavailableError(err);
    }
    // A caller sees records as GET /v1/messages/{id} shows them; an admin also sees whose each is.
    const items = page.records.map((rec: MessageRecord) => {
      if (who.caller === undefined) return rec;
      const { caller: _caller, ...view } = rec;
      return view;
    });
    res.json({ items, nextCursor: page.next ? encodeCursor(page.next) : null });
  });
  return r;
}
