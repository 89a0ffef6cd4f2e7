import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, json, startHarness } from './test-kit/harness.js';

let redis: TestRedis;
let h: Harness;
beforeAll(async () => {
  redis = await startTestRedis();
  h = await startHarness({ redis });
});
afterAll(async () => {
  await h?.close();
  await redis?.close();
});

const PAGES = ['/console', '/console/messages?q=905550000000', '/console/messages/msg_0123456789abcdef012345678', '/console/dead-letters', '/console/channels', '/console/subscribers'];

const get = (base: string, path: string, cookie?: string) => fetch(`${base}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

function post(base: string, path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers }, body });
}

/** fetch may not set Host: a raw request signs in as if the browser had asked for `host`. */
function setCookieFor(host: string): Promise<string | undefined> {
  const body = new URLSearchParams({ key: ADMIN_KEY }).toString();
  return new Promise((resolve, reject) => {
    const req = request(`${h.base}/console/login`, { method: 'POST', headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      resolve(res.headers['set-cookie']?.[0]);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function signIn(base = h.base, key = ADMIN_KEY): Promise<string> {
  const res = await post(base, '/console/login', { key });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

async function page(path: string, cookie: string): Promise<string> {
  const res = await get(h.base, path, cookie);
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*script-src 'none'/);
  return res.text();
}

const text = (to: string, body = 'hello console') => ({ to, type: 'text', text: { body } });

async function failedMessage(to: string): Promise<string> {
  h.sim.failNext(400, 1);
  const res = await h.send(text(to));
  expect(res.status).toBe(202);
  const { id } = await json<{ id: string }>(res);
  await waitFor(async () => (await json<{ status: string }>(await h.get(id))).status === 'failed', { what: 'the message failed' });
  return id;
}

describe('console: signing in', () => {
  it('sends every page to the sign-in form (303) without a session, and the form names its field and button', async () => {
    for (const path of PAGES) {
      const res = await get(h.base, path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toMatch(/^\/console\/login(?:\?next=|$)/);
    }
    expect((await post(h.base, '/console/logout', {})).headers.get('location')).toBe('/console/login');
    const form = await (await get(h.base, '/console/login')).text();
    expect(form).toContain('<label for="key">Admin key</label>');
    expect(form).toContain('<button type="submit">Sign in</button>');
    expect(form).toContain('<meta name="viewport"');
  });

  it('sets an HttpOnly, SameSite=Strict cookie scoped to /console (not Secure on plain HTTP to localhost), and goes on to the page asked for', async () => {
    const res = await post(h.base, '/console/login', { key: ADMIN_KEY, next: '/console/dead-letters' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/dead-letters');
    expect(res.headers.get('set-cookie')).toMatch(/^cbot_relay_console=ops~\d+~[A-Za-z0-9_-]{22}~[A-Za-z0-9_-]{43}; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    // Anywhere but this machine over plain HTTP, the cookie is Secure.
    expect(await setCookieFor('relay.example.com')).toMatch(/; Secure$/);
    expect(await setCookieFor(`localhost:${new URL(h.base).port}`)).not.toMatch(/Secure/);
    // A `next` off the console is ignored.
    expect((await post(h.base, '/console/login', { key: ADMIN_KEY, next: '//evil.example/console' })).headers.get('location')).toBe('/console');
  });

  it.each([
    ['a send API key', API_KEY],
    ['a wrong key', 'not-an-admin-key'],
    ['no key', ''],
  ])('refuses %s with 401 and no cookie', async (_what, key) => {
    const res = await post(h.base, '/console/login', { key });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('That is not an admin key of this relay.');
  });

  it('refuses a sign-in posted by another site', async () => {
    const res = await post(h.base, '/console/login', { key: ADMIN_KEY }, { 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a forged cookie, and a cookie another relay (another secret in Redis) issued for the same admin key', async () => {
    const cookie = await signIn();
    expect((await get(h.base, '/console', cookie)).status).toBe(200);
    const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await get(h.base, '/console', forged)).status).toBe(303);
    const longer = cookie.replace(/~(\d+)~/, (_m, exp: string) => `~${Number(exp) + 3600}~`);
    expect((await get(h.base, '/console', longer)).status).toBe(303);
    const other = await startHarness({ redis });
    try {
      const theirs = await signIn(other.base);
      expect((await get(other.base, '/console', theirs)).status).toBe(200);
      expect((await get(h.base, '/console', theirs)).status).toBe(303);
      expect((await get(other.base, '/console', cookie)).status).toBe(303);
    } finally {
      await other.close();
    }
  });

  it('signs out: the cookie is cleared and void from then on', async () => {
    const cookie = await signIn();
    const csrf = csrfOf(await page('/console', cookie));
    const out = await post(h.base, '/console/logout', { csrf }, { cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^cbot_relay_console=; Path=\/console; Max-Age=0/);
    expect((await get(h.base, '/console', cookie)).status).toBe(303);
  });
});

describe('console: CSRF', () => {
  it('refuses a POST without the session token, with another session token, or from another site', async () => {
    const id = await failedMessage('905550001001');
    const cookie = await signIn();
    const csrf = csrfOf(await page('/console/dead-letters', cookie));
    const otherCsrf = csrfOf(await page('/console', await signIn()));
    expect(otherCsrf).not.toBe(csrf);
    const tries: [Record<string, string>, Record<string, string>][] = [
      [{}, {}],
      [{ csrf: otherCsrf }, {}],
      [{ csrf }, { 'sec-fetch-site': 'cross-site' }],
      [{ csrf }, { 'sec-fetch-site': 'same-site' }],
    ];
    for (const [fields, headers] of tries) {
      const res = await post(h.base, `/console/dead-letters/${id}/replay`, fields, { cookie, ...headers });
      expect(res.status).toBe(403);
    }
    // Without Sec-Fetch-Site (an older browser) the Origin decides.
    const body = new URLSearchParams({ csrf }).toString();
    const fromElsewhere = await fetch(`${h.base}/console/dead-letters/${id}/replay`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(fromElsewhere.status).toBe(403);
    expect((await json<{ status: string }>(await h.get(id))).status).toBe('failed');
    const ok = await post(h.base, `/console/dead-letters/${id}/replay`, { csrf }, { cookie });
    expect(ok.headers.get('location')).toBe('/console/dead-letters?replayed=1&skipped=0');
  });
});

describe('console: pages', () => {
  it('finds a message by a phone number in any spelling, by relay id and by wamid, with filters', async () => {
    const cookie = await signIn();
    const res = await h.send(text('905550002002'));
    const { id } = await json<{ id: string }>(res);
    const sent = await waitFor(async () => {
      const r = await json<{ status: string; cbotMessageId: string | null }>(await h.get(id));
      return r.cbotMessageId ? r : undefined;
    });
    for (const q of ['+90 (555) 000-2002', '90 555 000 2002', id, sent.cbotMessageId!]) {
      const found = await page(`/console/messages?q=${encodeURIComponent(q)}`, cookie);
      expect(found, q).toContain(`<a href="/console/messages/${id}">${id}</a>`);
    }
    expect(await page('/console/messages?q=905550002002&status=failed', cookie)).not.toContain(id);
    expect(await page('/console/messages?q=905550002002&caller=other', cookie)).not.toContain(id);
    expect(await page('/console/messages?q=905550002002&caller=crm', cookie)).toContain(id);
    expect(await page(`/console/messages?q=905550002002&until=${encodeURIComponent('2000-01-01T00:00')}`, cookie)).not.toContain(`/console/messages/${id}"`);
    // The simulator's status callbacks carry pricing: the message page shows it once recorded.
    await waitFor(async () => ((await json<{ pricing?: unknown }>(await h.get(id))).pricing ? true : undefined), { what: 'pricing recorded' });
    expect(await page(`/console/messages/${id}`, cookie)).toMatch(/<dt>Billable<\/dt><dd>yes<\/dd><dt>Category<\/dt><dd>service<\/dd>/);
    const list = await page('/console/messages', cookie);
    for (const label of ['Search', 'Status', 'Caller', 'Channel', 'From (UTC)', 'To (UTC)']) expect(list).toContain(`>${label}<`);
  });

  it('shows a message: timeline, attempts with the CBOT error, the body only after "Show body", and "Replay" for a failed one', async () => {
    const id = await failedMessage('905550003003');
    const cookie = await signIn();
    const view = await page(`/console/messages/${id}`, cookie);
    for (const heading of ['Timeline', 'Attempts', 'Pricing', 'Body', 'Actions']) expect(view).toContain(`<h2>${heading}</h2>`);
    expect(view).toContain('<td>failed</td>');
    expect(view).toContain('<td>400</td>');
    expect(view).not.toContain('hello console');
    expect(view).toContain('<button type="submit">Show body</button>');
    expect(view).toContain('<button type="submit">Replay</button>');
    const shown = await post(h.base, `/console/messages/${id}/body`, { csrf: csrfOf(view) }, { cookie });
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('hello console');
    const replay = await post(h.base, `/console/messages/${id}/replay`, { csrf: csrfOf(view) }, { cookie });
    expect(replay.headers.get('location')).toBe(`/console/messages/${id}?done=replayed`);
    expect(await page(`/console/messages/${id}?done=replayed`, cookie)).toContain('Replayed: the message is queued again.');
    const missing = await get(h.base, '/console/messages/msg_0123456789abcdef012345678', cookie);
    expect(missing.status).toBe(404);
  });

  it('lists dead letters and replays all shown, saying how many were replayed and skipped', async () => {
    const ids = [await failedMessage('905550004001'), await failedMessage('905550004002')];
    const cookie = await signIn();
    const view = await page('/console/dead-letters?caller=crm', cookie);
    for (const id of ids) expect(view).toContain(`/console/dead-letters/${id}/replay`);
    expect(view).toContain('<button type="submit">Replay all shown</button>');
    const shown = [...view.matchAll(/<input type="hidden" name="ids" value="([^"]+)">/g)].map((m) => m[1]!);
    expect(shown).toEqual(expect.arrayContaining(ids));
    const res = await post(h.base, '/console/dead-letters/replay', { csrf: csrfOf(view), ids: [...shown, 'msg_0123456789abcdef012345678'] }, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/dead-letters?replayed=${shown.length}&skipped=1`);
    expect(await page(res.headers.get('location')!, cookie)).toContain(`Replayed ${shown.length}, skipped 1`);
    for (const id of ids) expect((await json<{ status: string }>(await h.get(id))).status).not.toBe('failed');
  });

  it('overview: the last hour from the relay\'s counters, and what would alert now with runbook sections', async () => {
    await failedMessage('905550005001');
    const cookie = await signIn();
    const view = await page('/console', cookie);
    expect(view).toContain('<h2>What would alert now</h2>');
    expect(view).toMatch(/Accepted [1-9]\d*, sent \d+, failed [1-9]\d*/);
    expect(view).toContain('<td>RelayDeadLettersGrowing</td><td class="firing">firing</td>');
    expect(view).toContain('<code>docs/operations.md#relaydeadlettersgrowing</code>');
    expect(view).toContain('<td>RelayBacklogOldMessage</td><td class="quiet">ok</td>');
  });

  it('channels and subscribers', async () => {
    const cookie = await signIn();
    const channels = await page('/console/channels', cookie);
    expect(channels).toContain('<td>default</td><td>sending</td>');
    expect(channels).toContain('<td>100000/s</td>');
    const subs = await page('/console/subscribers', cookie);
    expect(subs).toContain('<td>default</td><td>queue</td><td>yes</td>');
    for (const th of ['Waiting', 'Lag', 'Failures', 'Last error']) expect(subs).toContain(`<th scope="col">${th}</th>`);
  });

  it('links every page from every page', async () => {
    const cookie = await signIn();
    for (const path of ['/console', '/console/messages', '/console/dead-letters', '/console/channels', '/console/subscribers']) {
      const view = await page(path, cookie);
      for (const href of ['/console', '/console/messages', '/console/dead-letters', '/console/channels', '/console/subscribers']) expect(view, path).toContain(`<a href="${href}"`);
      expect(view).toContain('<button type="submit">Sign out</button>');
    }
    expect((await get(h.base, '/console/static/console.css')).headers.get('content-type')).toMatch(/^text\/css/);
  });
});
