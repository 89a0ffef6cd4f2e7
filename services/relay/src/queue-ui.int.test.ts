import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startTestRedis, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, json, startHarness } from './test-kit/harness.js';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const ADMIN_BASIC = basic('ops', ADMIN_KEY);

type QueueList = { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[] };

let redis: TestRedis;
let dir: string;
let h: Harness;
let conn: Redis;
beforeAll(async () => {
  redis = await startTestRedis();
  dir = mkdtempSync(join(tmpdir(), 'queue-ui-'));
  const subscriptions = join(dir, 'subscriptions.json');
  writeFileSync(
    subscriptions,
    JSON.stringify({
      subscribers: [
        { name: 'crm', kind: 'queue', types: ['message.received'] },
        // Nothing listens there: the push only has to exist as a queue.
        { name: 'hook', kind: 'http', url: 'http://127.0.0.1:9/hook', secret: 'a-long-enough-test-secret', types: ['message.status'] },
      ],
    }),
  );
  h = await startHarness({ redis, env: { SUBSCRIPTIONS_FILE: subscriptions } });
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  conn?.disconnect();
  await h?.close();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ui = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
  fetch(`${h.base}/admin/queues${path}`, { ...init, headers });

describe('/admin/queues', () => {
  it('asks a browser for credentials: 401 with a Basic challenge', async () => {
    const res = await ui('');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="cbot-relay admin"/);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe('unauthorized');
  });

  it.each([
    ['a wrong Basic password', basic('ops', 'not-the-admin-key')],
    ['a send API key as the Basic password', basic('ops', API_KEY)],
    ['a wrong Bearer key', 'Bearer not-the-admin-key'],
    ['a send API key as Bearer', `Bearer ${API_KEY}`],
    ['the admin key as the Basic user name', basic(ADMIN_KEY, '')],
  ])('refuses %s with 401', async (_what, authorization) => {
    for (const path of ['', '/api/queues']) {
      const res = await ui(path, { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="cbot-relay admin"/);
    }
  });

  it('signs a browser in with Basic: a session cookie, and the page again by a URL without credentials', async () => {
    for (const path of ['', '/', '/queue/events.crm']) {
      const res = await ui(path, { authorization: ADMIN_BASIC }, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`//${new URL(h.base).host}/admin/queues${path}?signed-in=1`);
      expect(res.headers.get('set-cookie')).toMatch(/^cbot_relay_queue_ui=ops~\d+~[A-Za-z0-9_-]{43}; Path=\/admin\/queues; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    }
    const cookie = (await ui('', { authorization: ADMIN_BASIC }, { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
    // With the session, Basic is served at once (the browser keeps sending it after a prompt).
    expect((await ui('/', { authorization: ADMIN_BASIC, cookie })).status).toBe(200);
    // The cookie alone is enough for the page, its assets and its API.
    const page = await ui('/', { cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<base href="/admin/queues/"');
    expect((await ui('/api/queues', { cookie })).status).toBe(200);
    // A forged or altered cookie is not.
    const [name, exp, mac] = cookie.split('=')[1]!.split('~') as [string, string, string];
    for (const bad of [`${name}~${Number(exp) + 3600}~${mac}`, `${name}~${exp}~${'A'.repeat(43)}`, `other~${exp}~${mac}`]) {
      const res = await ui('/api/queues', { cookie: `cbot_relay_queue_ui=${bad}` });
      expect(res.status).toBe(401);
    }
    // An Authorization header decides when present, cookie or not.
    expect((await ui('/api/queues', { cookie, authorization: 'Bearer not-the-admin-key' })).status).toBe(401);
  });

  it.each([
    ['Basic (any user, the admin key as password)', ADMIN_BASIC],
    ['Bearer', `Bearer ${ADMIN_KEY}`],
  ])('serves the UI with %s, its assets from the installed package', async (_what, authorization) => {
    // Basic: after one redirect (fetch keeps no cookies; the marker ends the round).
    const res = await ui('', { authorization });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    const html = await res.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const scripts = [...html.matchAll(/<script defer src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).toMatch(/^static\//); // relative to <base>: this origin, not a CDN
      const asset = await ui(`/${src}`, { authorization });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      await asset.arrayBuffer();
    }
    // The assets need the key too.
    expect((await ui(`/${scripts[0]}`)).status).toBe(401);
  });

  it('lists every BullMQ queue of the relay, under QUEUE_PREFIX', async () => {
    // One inbound message: fanout puts its event on events.crm (which has no consumer here).
    const callback = readFileSync(join(REPO_ROOT, 'packages/messages/src/testdata/samples/inbound/t01-text.json'));
    const posted = await fetch(`${h.base}/webhooks/cbot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: BASIC },
      body: callback,
    });
    expect(posted.status).toBe(200);
    const list = await waitFor(async () => {
      const res = await ui('/api/queues', { authorization: ADMIN_BASIC });
      expect(res.status).toBe(200);
      const body = await json<QueueList>(res);
      const crm = body.queues.find((q) => q.name === 'events.crm');
      return crm && crm.counts.waiting === 1 ? body : undefined;
    }, { what: 'the event on events.crm, seen through the UI API' });
    expect(list.queues.map((q) => q.name).sort()).toEqual(['events.crm', 'inbound', 'push.hook']);
    expect(list.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('refuses every write while read-only (the default)', async () => {
    const inbound = new Queue('inbound', { connection: conn, prefix: h.prefix });
    try {
      for (const [method, path] of [
        ['PUT', '/api/queues/inbound/pause'],
        ['PUT', '/api/queues/pause'],
        ['PUT', '/api/queues/events.crm/clean/waiting'],
        ['PUT', '/api/queues/events.crm/empty'],
        ['POST', '/api/queues/events.crm/add'],
      ] as const) {
        const res = await ui(path, { authorization: ADMIN_BASIC, 'content-type': 'application/json' }, { method, body: '{}' });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect((await json<{ error: { code: string } }>(res)).error.code).toBe('read_only');
      }
      expect(await inbound.isPaused()).toBe(false);
      const counts = await new Queue('events.crm', { connection: conn, prefix: h.prefix }).getJobCounts('waiting');
      expect(counts.waiting).toBe(1);
    } finally {
      await inbound.close();
    }
  });
});

describe('/admin/queues with QUEUE_UI_WRITE=1', () => {
  it('lets an admin act: pausing and resuming inbound', async () => {
    const w = await startHarness({ redis, env: { QUEUE_UI_WRITE: '1' } });
    const inbound = new Queue('inbound', { connection: conn, prefix: w.prefix });
    try {
      const list = await json<QueueList>(await fetch(`${w.base}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }));
      expect(list.queues.map((q) => q.name).sort()).toEqual(['events.default', 'inbound']);
      expect(list.queues.some((q) => q.readOnlyMode)).toBe(false);
      const pause = await fetch(`${w.base}/admin/queues/api/queues/inbound/pause`, { method: 'PUT', headers: { authorization: ADMIN_BASIC } });
      expect(pause.status).toBe(200);
      expect(await inbound.isPaused()).toBe(true);
      const resume = await fetch(`${w.base}/admin/queues/api/queues/inbound/resume`, { method: 'PUT', headers: { authorization: ADMIN_BASIC } });
      expect(resume.status).toBe(200);
      expect(await inbound.isPaused()).toBe(false);
      // An action another site's page makes the browser send is refused, credentials or not.
      const foreign: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'http://evil.example' }];
      for (const headers of foreign) {
        const res = await fetch(`${w.base}/admin/queues/api/queues/inbound/pause`, { method: 'PUT', headers: { authorization: ADMIN_BASIC, ...headers } });
        expect(res.status).toBe(403);
        expect((await json<{ error: { code: string } }>(res)).error.code).toBe('cross_site');
      }
      expect(await inbound.isPaused()).toBe(false);
      // The UI's own requests pass.
      const own = await fetch(`${w.base}/admin/queues/api/queues/inbound/pause`, {
        method: 'PUT',
        headers: { authorization: ADMIN_BASIC, 'sec-fetch-site': 'same-origin', origin: w.base },
      });
      expect(own.status).toBe(200);
      expect(await inbound.isPaused()).toBe(true);
      await fetch(`${w.base}/admin/queues/api/queues/inbound/resume`, { method: 'PUT', headers: { authorization: ADMIN_BASIC } });
      // Writes still need the key.
      const anonymous = await fetch(`${w.base}/admin/queues/api/queues/inbound/pause`, { method: 'PUT' });
      expect(anonymous.status).toBe(401);
      expect(await inbound.isPaused()).toBe(false);
    } finally {
      await inbound.close();
      await w.close();
    }
  });
});
