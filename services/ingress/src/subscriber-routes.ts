import { Router, raw } from 'express';
import type { z } from 'zod';
import type { Logger } from '@cbot-relay/observability';
import { CreateSubscriberRequest, PatchSubscriberRequest, RotateSecretRequest, subscriberView as view } from '@cbot-relay/api';
import { SUBSCRIBER_NAME, generateSecret, rotateSecret } from '@cbot-relay/records';
import type { SubscriberRecord, SubscriberStore } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import { caller } from './send-routes.js';

export interface SubscriberRoutesDeps {
  adminKeys: KeyRing;
  store: Pick<SubscriberStore, 'snapshot' | 'get' | 'create' | 'update' | 'delete'>;
  now: () => number;
  log: Logger;
}

/** Request bodies are a few hundred bytes; 16 KiB leaves room for long URLs and nothing more. */
const MAX_BODY_BYTES = 16_384;

/**
 * `/v1/subscribers`: list, create, get, change, delete and rotate the secret of downstream
 * subscribers, behind RELAY_ADMIN_KEYS. Secrets are never shown again after the answer that
 * generated them: views carry a fingerprint (`sha256:` + 16 hex of the secret's SHA-256). The bodies
 * it takes and gives are the schemas `@cbot-relay/api` builds the OpenAPI document from.
 */
export function subscriberRoutes(deps: SubscriberRoutesDeps): Router {
  const r = Router();
  const body = raw({ type: () => true, limit: MAX_BODY_BYTES });
  r.use('/v1/subscribers', (req, res, next) => {
    res.locals.route = '/v1/subscribers/*';
    res.locals.admin = caller(deps.adminKeys, req.headers, 'RELAY_ADMIN_KEYS');
    next();
  });

  r.get('/v1/subscribers', async (_req, res) => {
    const snap = await storage(() => deps.store.snapshot());
    res.json({ items: snap.subscribers.map((s) => view(s, deps.now())) });
  });

  r.post('/v1/subscribers', body, async (req, res) => {
    const input = parse(CreateSubscriberRequest, req.body);
    const now = deps.now();
    const meta = { types: input.types ?? ['*'], enabled: input.enabled ?? true, createdAt: now, updatedAt: now, source: 'api' as const };
    const generated = input.kind === 'http' && input.secret === undefined ? generateSecret() : undefined;
    const rec: SubscriberRecord =
      input.kind === 'http'
        ? { ...input, ...meta, secret: input.secret ?? generated!, previousSecrets: [] }
        : { ...input, ...meta };
    if (!(await storage(() => deps.store.create(rec)))) throw new HttpError(409, 'subscriber_exists', `a subscriber named "${rec.name}" exists`);
    deps.log.info({ subscriber: rec.name, kind: rec.kind, admin: res.locals.admin }, 'subscriber created');
    res.status(201).location(`/v1/subscribers/${rec.name}`).json({ ...view(rec, now), ...(generated ? { secret: generated } : {}) });
  });

  r.get('/v1/subscribers/:name', async (req, res) => {
    res.json(view(await existing(deps, String(req.params.name)), deps.now()));
  });

  r.patch('/v1/subscribers/:name', body, async (req, res) => {
    const name = String(req.params.name);
    const patch = parse(PatchSubscriberRequest, req.body);
    const now = deps.now();
    let refusal: HttpError | undefined;
    const next = await storage(() =>
      deps.store.update(name, (cur) => {
        refusal = undefined;
        const wrong = cur.kind === 'http' ? (['maxWaiting', 'maxAgeS'] as const).filter((k) => k in patch) : 'url' in patch ? ['url'] : [];
        if (wrong.length > 0) {
          refusal = new HttpError(400, 'invalid_request', `${wrong.join(', ')} does not apply to a ${cur.kind} subscriber`, wrong.map((path) => ({ path, message: `not for ${cur.kind} subscribers` })));
          return cur;
        }
        const { channels, ...rest } = patch;
        const changed = { ...cur, ...rest, updatedAt: now, source: 'api' as const } as SubscriberRecord;
        if (channels === null) delete changed.channels;
        else if (channels !== undefined) changed.channels = channels;
        return changed;
      }),
    );
    if (refusal) throw refusal;
    if (!next) throw notFound(name);
    deps.log.info({ subscriber: name, fields: Object.keys(patch), admin: res.locals.admin }, 'subscriber changed');
    res.json(view(next, now));
  });

  r.delete('/v1/subscribers/:name', async (req, res) => {
    const name = String(req.params.name);
    if (!SUBSCRIBER_NAME.test(name) || !(await storage(() => deps.store.delete(name)))) throw notFound(name);
    deps.log.info({ subscriber: name, admin: res.locals.admin }, 'subscriber deleted');
    res.status(204).end();
  });

  r.post('/v1/subscribers/:name/rotate-secret', body, async (req, res) => {
    const name = String(req.params.name);
    // An empty body means "generate one, default overlap".
    const input = parse(RotateSecretRequest, Buffer.isBuffer(req.body) && req.body.length === 0 ? Buffer.from('{}') : req.body);
    const secret = input.secret ?? generateSecret();
    const now = deps.now();
    let queueKind = false;
    const next = await storage(() =>
      deps.store.update(name, (cur) => {
        queueKind = cur.kind !== 'http';
        return cur.kind === 'http' ? { ...rotateSecret(cur, secret, input.overlapSeconds, now), source: 'api' } : cur;
      }),
    );
    if (!next) throw notFound(name);
    if (queueKind) throw new HttpError(409, 'no_secret', `"${name}" is a queue subscriber: it has no secret`);
    deps.log.info({ subscriber: name, overlapSeconds: input.overlapSeconds, admin: res.locals.admin }, 'subscriber secret rotated');
    res.json({ ...view(next, now), ...(input.secret === undefined ? { secret } : {}) });
  });
  return r;
}

async function existing(deps: SubscriberRoutesDeps, name: string): Promise<SubscriberRecord> {
  const rec = SUBSCRIBER_NAME.test(name) ? await storage(() => deps.store.get(name)) : undefined;
  if (!rec) throw notFound(name);
  return rec;
}

function notFound(name: string): HttpError {
  return new HttpError(404, 'not_found', SUBSCRIBER_NAME.test(name) ? `no subscriber named "${name}"` : 'no such subscriber');
}

async function storage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new UnavailableError(err);
  }
}

/** Validates a JSON body; each zod issue becomes a `{path, message}` detail (never echoing a secret). */
function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(readJson(raw).value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new HttpError(400, 'invalid_request', 'the request body is not a valid subscriber request; see details', details);
}
