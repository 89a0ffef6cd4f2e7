import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import { ChannelQuery, OPT_OUT_DEFAULT_LIMIT, OptOutListQuery } from '@cbot-relay/api';
import { Recipient, normalizeRecipient } from '@cbot-relay/messages';
import type { Logger } from '@cbot-relay/observability';
import type { Recipients } from '@cbot-relay/records';
import { decodeOptCursor } from '@cbot-relay/records';
import type { z } from 'zod';
import type { KeyRing } from './auth.js';
import { bearerToken } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import type { ChannelRouting } from './send-routes.js';
import { caller } from './send-routes.js';

export interface RecipientRoutesDeps {
  keys: KeyRing;
  adminKeys: KeyRing;
  recipients: Recipients;
  channels?: ChannelRouting;
  now: () => number;
  log: Logger;
}

const SINGLE: ChannelRouting = { ids: ['default'], defaultId: 'default', allowed: new Map() };

/** A query parsed by its schema (the one the description is built from), or the 400 naming each parameter. */
function query<T extends z.ZodType>(schema: T, raw: unknown, route: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({
    path: i.path.length > 0 ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.slice(0, 10).map((k) => k.slice(0, 64)).join(',') : '',
    message: i.message,
  }));
  throw new HttpError(400, 'invalid_query', `the query is not valid for ${route}`, details);
}

/** The path's recipient, normalised like a send's `to`; 400 when it is not a WhatsApp id. */
function recipientParam(raw: string): string {
  if (!Recipient.safeParse(raw).success) {
    throw new HttpError(400, 'invalid_request', 'the recipient must be a WhatsApp id: 1 to 15 digits, optionally after a + (encode it as %2B)', [{ path: 'to', message: 'invalid' }]);
  }
  return normalizeRecipient(raw);
}

/** The channel a query names (the default one when absent), held to the caller's allowed channels (`who`; undefined: an admin). */
function channelOf(routing: ChannelRouting | undefined, named: string | undefined, who: string | undefined): string {
  const r = routing ?? SINGLE;
  const channel = named ?? r.defaultId;
  if (!r.ids.includes(channel)) {
    throw new HttpError(400, 'unknown_channel', `unknown channel "${channel.slice(0, 64)}"; channels are ${r.ids.join(', ')}`, [{ path: 'channel', message: 'unknown channel' }]);
  }
  const allowed = who === undefined ? undefined : r.allowed.get(who);
  if (allowed !== undefined && !allowed.includes(channel)) {
    throw new HttpError(403, 'channel_forbidden', `this API key may not use channel "${channel}"`, [{ path: 'channel', message: `allowed: ${allowed.join(', ')}` }]);
  }
  return channel;
}

/** A caller key (its channel list applies), or an admin key (every channel: `undefined`). */
function reader(deps: RecipientRoutesDeps, headers: IncomingHttpHeaders): string | undefined {
  const token = bearerToken(headers.authorization);
  if (token !== undefined && deps.keys.match(token) === undefined && deps.adminKeys.match(token) !== undefined) return undefined;
  return caller(deps.keys, headers);
}

async function unavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new UnavailableError(err);
  }
}

/**
 * WhatsApp's rules per recipient: `GET /v1/recipients/{to}` (API key, its channels; or an admin key)
 * and the opt-out admin API, `GET /v1/opt-outs`, `PUT` / `DELETE /v1/opt-outs/{to}` (RELAY_ADMIN_KEYS).
 */
export function recipientRoutes(deps: RecipientRoutesDeps): Router {
  const r = Router();

  r.get('/v1/recipients/:to', async (req, res) => {
    const who = reader(deps, req.headers);
    const to = recipientParam(String(req.params.to));
    const q = query(ChannelQuery, req.query, 'GET /v1/recipients/{to}');
    const channel = channelOf(deps.channels, q.channel, who);
    res.json(await unavailable(deps.recipients.get(channel, to, deps.now())));
  });

  r.use('/v1/opt-outs', (req, res, next) => {
    res.locals.route = '/v1/opt-outs/*';
    res.locals.admin = caller(deps.adminKeys, req.headers, 'RELAY_ADMIN_KEYS');
    next();
  });

  r.get('/v1/opt-outs', async (req, res) => {
    const q = query(OptOutListQuery, req.query, 'GET /v1/opt-outs');
    const channel = channelOf(deps.channels, q.channel, undefined);
    if (q.cursor !== undefined && decodeOptCursor(q.cursor) === undefined) {
      throw new HttpError(400, 'invalid_query', 'the query is not valid for GET /v1/opt-outs', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    }
    res.json(await unavailable(deps.recipients.listOptOuts(channel, q.cursor, q.limit ?? OPT_OUT_DEFAULT_LIMIT)));
  });

  r.put('/v1/opt-outs/:to', async (req, res) => {
    const to = recipientParam(String(req.params.to));
    const channel = channelOf(deps.channels, query(ChannelQuery, req.query, 'PUT /v1/opt-outs/{to}').channel, undefined);
    const changed = await unavailable(deps.recipients.optOut(channel, to, deps.now()));
    deps.log.info({ channel, admin: res.locals.admin, changed }, 'recipient opted out by the admin API');
    res.json(await unavailable(deps.recipients.get(channel, to, deps.now())));
  });

  r.delete('/v1/opt-outs/:to', async (req, res) => {
    const to = recipientParam(String(req.params.to));
    const channel = channelOf(deps.channels, query(ChannelQuery, req.query, 'DELETE /v1/opt-outs/{to}').channel, undefined);
    const changed = await unavailable(deps.recipients.optIn(channel, to, deps.now()));
    deps.log.info({ channel, admin: res.locals.admin, changed }, 'recipient opted back in by the admin API');
    res.json(await unavailable(deps.recipients.get(channel, to, deps.now())));
  });

  return r;
}
