import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import type { z } from 'zod';
import { TemplatesQuery, USAGE_DEFAULT_DAYS, USAGE_MAX_RANGE_DAYS, UsageQuery } from '@cbot-relay/api';
import type { TemplateList, UsageReport } from '@cbot-relay/api';
import { DAY_MS, usageDays } from '@cbot-relay/records';
import type { MessageStore } from '@cbot-relay/records';
import { bearerToken } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import type { SendRoutesDeps } from './send-routes.js';
import { caller, routeChannel } from './send-routes.js';
import type { TemplateCatalog } from './template-catalog.js';

export interface TemplatesUsageDeps extends Pick<SendRoutesDeps, 'keys' | 'adminKeys' | 'channels' | 'now' | 'log'> {
  store: Pick<MessageStore, 'usage'>;
  catalog?: Pick<TemplateCatalog, 'list'>;
}

function parseQuery<T extends z.ZodType>(schema: T, raw: unknown, route: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({
    path: i.path.length > 0 ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.slice(0, 10).join(',').slice(0, 200) : '',
    message: i.message,
  }));
  throw new HttpError(400, 'invalid_query', `the query is not valid for ${route}`, details);
}

/** The channel a query names (or the default), with the same 400 / 403 a send's `channel` field gets. */
function queryChannel(deps: TemplatesUsageDeps, who: string, named: string | undefined): string {
  return routeChannel(deps.channels, who, named === undefined ? {} : { channel: named }, '').channel;
}

/** An admin key (RELAY_ADMIN_KEYS, and not also a caller key): undefined for a caller key. */
function adminOrCaller(deps: TemplatesUsageDeps, headers: IncomingHttpHeaders): { admin: true } | { admin: false; who: string } {
  const token = bearerToken(headers.authorization);
  if (token !== undefined && deps.adminKeys !== undefined && deps.keys.match(token) === undefined && deps.adminKeys.match(token) !== undefined) return { admin: true };
  return { admin: false, who: caller(deps.keys, headers) };
}

/** GET /v1/templates (API key) and GET /v1/usage (API key: own counts; admin key: everyone's). */
export function templatesUsageRoutes(deps: TemplatesUsageDeps): Router {
  const r = Router();

  r.get('/v1/templates', async (req, res) => {
    const who = caller(deps.keys, req.headers);
    const q = parseQuery(TemplatesQuery, req.query, 'GET /v1/templates');
    const channel = queryChannel(deps, who, q.channel);
    if (deps.catalog === undefined) throw new HttpError(503, 'templates_unavailable', 'template lists are not served by this process', [], { 'Retry-After': '10' });
    let got;
    try {
      got = await deps.catalog.list(channel);
    } catch (err) {
      throw new UnavailableError(err);
    }
    if ('error' in got) {
      throw new HttpError(503, 'templates_unavailable', `the template list of channel "${channel}" could not be loaded from CBOT: ${got.error}`, [], { 'Retry-After': '10' });
    }
    const body: TemplateList = { channel, fetchedAt: new Date(got.atMs).toISOString(), templates: got.templates as TemplateList['templates'] };
    res.json(body);
  });

  r.get('/v1/usage', async (req, res) => {
    const auth = adminOrCaller(deps, req.headers);
    const q = parseQuery(UsageQuery, req.query, 'GET /v1/usage');
    const bad = (path: string, message: string) => new HttpError(400, 'invalid_query', 'the query is not valid for GET /v1/usage', [{ path, message }]);
    const untilMs = q.until === undefined ? deps.now() : Date.parse(q.until);
    const sinceMs = q.since === undefined ? untilMs - USAGE_DEFAULT_DAYS * DAY_MS : Date.parse(q.since);
    if (sinceMs >= untilMs) throw bad('until', 'must be after since');
    const days = usageDays(sinceMs, untilMs);
    if (days.length > USAGE_MAX_RANGE_DAYS) throw bad('since', `the range may cover at most ${USAGE_MAX_RANGE_DAYS} days`);
    let who: string | undefined;
    if (auth.admin) who = q.caller;
    else {
      if (q.caller !== undefined && q.caller !== auth.who) throw bad('caller', 'only an admin key may ask for another caller');
      who = auth.who;
    }
    // A caller key naming a channel gets the channel ACL of a send; an admin any configured channel.
    const channel = q.channel === undefined ? undefined : queryChannel(deps, auth.admin ? '' : auth.who, q.channel);
    let items;
    try {
      items = await deps.store.usage({ sinceMs, untilMs, ...(channel === undefined ? {} : { channel }), ...(who === undefined ? {} : { caller: who }) });
    } catch (err) {
      throw new UnavailableError(err);
    }
    const body: UsageReport = {
      since: new Date(days[0]! * DAY_MS).toISOString(),
      until: new Date((days[days.length - 1]! + 1) * DAY_MS).toISOString(),
      items: items as UsageReport['items'],
    };
    res.json(body);
  });

  return r;
}
