import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';

const ADMIN_KEY = 'admin-key-123456';
const API_KEY = 'caller-key-123456';

/** An HTTP subscriber that records every push with its headers. */
class Receiver {
  readonly pushes: { headers: Record<string, string>; body: string }[] = [];
  readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.pushes.push({ headers: flat(req.headers), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  forMessage(wamid: string) {
    return this.pushes.find((p) => (JSON.parse(p.body) as { data: { id?: string } }).data.id === wamid);
  }
}
const flat = (h: IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));

let redis: TestRedis;
let dir: string;
const receiver = new Receiver();
let ingress: Relay;
let fanout: Relay;
let base: string;

async function relay(roles: string, env: Record<string, string>): Promise<Relay> {
  const config = loadConfig({ RELAY_ROLES: roles, PORT: '0', OPS_PORT: 'off', RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`, RELAY_API_KEYS: `crm:${API_KEY}`, ...env });
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return startRelay({ config, redisUrl: redis.url, log, metrics: createMetrics(), host: '127.0.0.1' });
}

const call = (path: string, method = 'GET', body?: unknown, key = ADMIN_KEY, raw?: string) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(raw !== undefined ? { body: raw } : body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const json = async (res: Response) => (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; details?: { path: string; message: string }[] } };

let seq = 0;
async function callback(): Promise<string> {
  const wamid = `wamid.api${++seq}.${Date.now()}`;
  const body = JSON.stringify({ messages: [{ from: '905551112233', id: wamid, timestamp: '1717171700', type: 'text', text: { body: 'hi' } }] });
  const res = await fetch(`${base}/webhooks/cbot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(200);
  return wamid;
}

beforeAll(async () => {
  redis = await startTestRedis();
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'subscribers-api-'));
  const file = join(dir, 'subscriptions.json');
  writeFileSync(file, JSON.stringify({ subscribers: [{ name: 'crm', kind: 'queue', types: ['message.received'] }] }));
  const env = { QUEUE_PREFIX: uniquePrefix('subs'), SUBSCRIPTIONS_FILE: file };
  // Two relays on one Redis: the API on an ingress reaches a fanout in another process.
  ingress = await relay('ingress', env);
  fanout = await relay('fanout', env);
  base = `http://127.0.0.1:${ingress.port}`;
});

afterAll(async () => {
  await ingress?.close();
  await fanout?.close();
  await new Promise((resolve) => receiver.server.close(resolve));
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/v1/subscribers', () => {
  it('lists the subscribers SUBSCRIPTIONS_FILE seeded', async () => {
    const res = await call('/v1/subscribers');
    expect(res.status).toBe(200);
    expect((await json(res)).items).toEqual([
      expect.objectContaining({ name: 'crm', kind: 'queue', types: ['message.received'], enabled: true, source: 'file', queue: 'events.crm' }),
    ]);
  });

  it('creates an HTTP subscriber that a fanout in another process pushes to, and rotates its secret with an overlap', async () => {
    const created = await call('/v1/subscribers', 'POST', { name: 'hook', kind: 'http', url: receiver.url });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/subscribers/hook');
    const body = await json(created);
    const secret = body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(body.secretFingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);

    // Shown again, the secret is only its fingerprint.
    const got = await json(await call('/v1/subscribers/hook'));
    expect(got).toMatchObject({ name: 'hook', kind: 'http', url: receiver.url, enabled: true, source: 'api', secretFingerprint: body.secretFingerprint, previousSecrets: [] });
    expect(JSON.stringify(got)).not.toContain(secret.slice(6, 20));
    expect(JSON.stringify(await json(await call('/v1/subscribers')))).not.toContain(secret.slice(6, 20));

    // Within 10 s, with no restart: the first push verifies with the returned secret.
    let first = '';
    await waitFor(
      async () => {
        first = await callback();
        return waitFor(() => receiver.forMessage(first), { timeoutMs: 1_000, what: 'push' }).then(() => true, () => false);
      },
      { timeoutMs: 10_000, intervalMs: 0, what: 'a push to the API-made subscriber' },
    );
    const p1 = receiver.forMessage(first)!;
    expect(() => new Webhook(secret).verify(p1.body, p1.headers)).not.toThrow();

    const again = await call('/v1/subscribers', 'POST', { name: 'hook', kind: 'queue' });
    expect(again.status).toBe(409);
    expect((await json(again)).error?.code).toBe('subscriber_exists');

    const given = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const rotated = await call('/v1/subscribers/hook/rotate-secret', 'POST', { secret: given, overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const r = await json(rotated);
    expect(r.secret).toBeUndefined(); // given, not generated: not echoed
    expect(r.previousSecrets).toEqual([{ fingerprint: body.secretFingerprint, expiresAt: expect.any(String) }]);
    await waitFor(
      async () => {
        const wamid = await callback();
        await waitFor(() => receiver.forMessage(wamid), { what: 'push after rotation' });
        return receiver.forMessage(wamid)!.headers['webhook-signature']!.split(' ').length === 2;
      },
      { timeoutMs: 10_000, intervalMs: 0, what: 'a push signed with both secrets' },
    );
    const both = receiver.pushes.at(-1)!;
    expect(() => new Webhook(given).verify(both.body, both.headers)).not.toThrow();
    expect(() => new Webhook(secret).verify(both.body, both.headers)).not.toThrow();

    // No overlap: the old secret stops at once; a generated secret is returned once.
    const now = await json(await call('/v1/subscribers/hook/rotate-secret', 'POST', { overlapSeconds: 0 }));
    expect(now.secret).toMatch(/^whsec_/);
    expect(now.previousSecrets).toHaveLength(1); // `given`'s predecessor is still in its hour; `given` is gone
    expect((now.previousSecrets as { fingerprint: string }[])[0]?.fingerprint).toBe(body.secretFingerprint);
  });

  it('changes and deletes a subscriber', async () => {
    await call('/v1/subscribers', 'POST', { name: 'gone', kind: 'http', url: receiver.url, types: ['message.status'] });
    const patched = await call('/v1/subscribers/gone', 'PATCH', { types: ['*'], channels: ['default'], enabled: false });
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({ types: ['*'], channels: ['default'], enabled: false });
    const cleared = await json(await call('/v1/subscribers/gone', 'PATCH', { channels: null }));
    expect(cleared.channels).toBeUndefined();
    expect((await call('/v1/subscribers/crm', 'PATCH', { url: 'https://x.example/' })).status).toBe(400);
    expect((await call('/v1/subscribers/crm/rotate-secret', 'POST', {})).status).toBe(409);

    expect((await call('/v1/subscribers/gone', 'DELETE')).status).toBe(204);
    expect((await call('/v1/subscribers/gone', 'DELETE')).status).toBe(404);
    const missing = await call('/v1/subscribers/gone');
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toEqual({ code: 'not_found', message: 'no subscriber named "gone"', details: [] });
    expect((await call('/v1/subscribers/gone', 'PATCH', { enabled: true })).status).toBe(404);
  });

  it('refuses bad requests with clear error bodies', async () => {
    const errorOf = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      return (await json(res)).error!;
    };
    expect((await errorOf(await fetch(`${base}/v1/subscribers`), 401)).code).toBeTruthy();
    await errorOf(await call('/v1/subscribers', 'GET', undefined, API_KEY), 401);
    await errorOf(await call('/v1/subscribers', 'POST', undefined, ADMIN_KEY, '{"name":'), 400);
    const cases: [unknown, string][] = [
      [{ name: 'a b', kind: 'queue' }, 'name'],
      [{ name: 'x', kind: 'ftp' }, 'kind'],
      [{ name: 'x', kind: 'http', url: 'ftp://example.test/' }, 'url'],
      [{ name: 'x', kind: 'http', url: 'https://example.test/', secret: 'a-plain-shared-secret-of-enough-length' }, 'secret'],
      [{ name: 'x', kind: 'http', url: 'https://example.test/', secret: `whsec_${Buffer.alloc(16).toString('base64')}` }, 'secret'],
      [{ name: 'x', kind: 'http', url: 'https://example.test/', secret: 'whsec_not*base64' }, 'secret'],
      [{ name: 'x', kind: 'queue', types: ['message.sent'] }, 'types.0'],
      [{ name: 'x', kind: 'queue', types: 'message.received' }, 'types'],
      [{ name: 'x', kind: 'queue', channels: [] }, 'channels'],
      [{ name: 'x', kind: 'queue', color: 'red' }, ''],
    ];
    for (const [body, path] of cases) {
      const err = await errorOf(await call('/v1/subscribers', 'POST', body), 400);
      expect(err.code).toBe('invalid_request');
      expect(err.details?.map((d) => d.path)).toContain(path);
      expect(JSON.stringify(err)).not.toContain('plain-shared-secret');
    }
    expect((await errorOf(await call('/v1/subscribers/crm', 'PATCH', {}), 400)).code).toBe('invalid_request');
    expect((await errorOf(await call('/v1/subscribers/crm', 'PATCH', { secret: 'whsec_x' }), 400)).code).toBe('invalid_request');
    await errorOf(await call('/v1/subscribers/hook/rotate-secret', 'POST', { overlapSeconds: -1 }), 400);
    await errorOf(await call('/v1/subscribers/hook/rotate-secret', 'POST', { overlapSeconds: '60' }), 400);
    await errorOf(await call('/v1/subscribers', 'POST', undefined, ADMIN_KEY, JSON.stringify({ name: 'big', kind: 'queue', pad: 'x'.repeat(20_000) })), 413);
    await errorOf(await call('/v1/subscribers/nosuch/rotate-secret', 'POST', {}), 404);
    expect((await json(await call('/v1/subscribers'))).items).not.toContainEqual(expect.objectContaining({ name: 'x' }));
  });
});
