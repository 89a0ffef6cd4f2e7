import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SpecValidator, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

// The relay's real answers, checked against what docs/openapi.json says it answers.

const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/openapi.json'), 'utf8')) as Record<string, unknown>;
const spec = new SpecValidator(committed);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const text = (to: string, body = 'hello') => ({ to, type: 'text', text: { body } });

const documented = (path: string, method: string, status: number): string => {
  const paths = committed.paths as Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
  return paths[path]?.[method.toLowerCase()]?.responses[String(status)]?.description ?? '';
};

/** Asserts the answer's status and that its JSON body is what the document describes for it; returns the body. */
async function conforms(res: Response, path: string, method: string, status: number): Promise<unknown> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as unknown;
  expect(spec.response(path, method, status, body), JSON.stringify(body)).toEqual([]);
  // An error's code is one the document lists for that response.
  const code = (body as { error?: { code?: unknown } }).error?.code;
  if (status >= 400) expect(`${method} ${path} ${status}: ${documented(path, method, status)}`).toContain(`\`${String(code)}\``);
  return body;
}

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${h.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers }, body });

describe('GET /openapi.json and /docs', () => {
  it('serves the committed description, unauthenticated', async () => {
    const res = await fetch(`${h.base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(committed);
  });

  it('serves the reference page and every asset it references, with a policy that allows only this origin', async () => {
    const res = await fetch(`${h.base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const page = await res.text();
    expect(page).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>[^<]/); // no inline script
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => /^(https?:)?\/\//.test(r))).toEqual([]); // nothing from another origin (no CDN)
    expect(refs.length).toBeGreaterThanOrEqual(4);
    const types: Record<string, RegExp> = { css: /^text\/css/, js: /javascript/, png: /^image\/png/, json: /^application\/json/ };
    for (const ref of refs) {
      const asset = await fetch(`${h.base}${ref}`);
      expect([ref, asset.status]).toEqual([ref, 200]);
      const ext = ref.split('.').pop() ?? '';
      expect([ref, asset.headers.get('content-type')]).toEqual([ref, expect.stringMatching(types[ext] ?? /./)]);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await fetch(`${h.base}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('serves nothing else of the package', async () => {
    for (const path of ['/docs/assets/index.html', '/docs/assets/swagger-initializer.js', '/docs/assets/..%2Fpackage.json', '/docs/assets/.npmrc']) {
      const res = await fetch(`${h.base}${path}`);
      await conforms(res, '/v1/messages/{id}', 'GET', 404);
    }
  });
});

describe('answers conform to the description', () => {
  it('send 202, the record once sent, and a repeated Idempotency-Key with another body (409)', async () => {
    const res = await post('/v1/messages', JSON.stringify(text('905553330001')), { 'Idempotency-Key': 'oas-1', 'X-Relay-Priority': 'high', 'X-Relay-Expires-In': '600' });
    const { id } = (await conforms(res, '/v1/messages', 'POST', 202)) as { id: string };
    expect(res.headers.get('location')).toBe(`/v1/messages/${id}`);
    await waitFor(async () => ((await json<{ status: string }>(await h.get(id))).status === 'read' ? true : undefined), { what: 'read' });
    await conforms(await h.get(id), '/v1/messages/{id}', 'GET', 200);
    await conforms(await post('/v1/messages', JSON.stringify(text('905553330001', 'other')), { 'Idempotency-Key': 'oas-1' }), '/v1/messages', 'POST', 409);
  });

  it('400 (invalid message, malformed JSON, bad header), 401, 413, 415 and 404 error bodies', async () => {
    const send = '/v1/messages';
    const invalid = (await conforms(await post(send, JSON.stringify({ to: '1', type: 'text', text: {} })), send, 'POST', 400)) as { error: { code: string } };
    expect(invalid.error.code).toBe('invalid_message');
    await conforms(await post(send, '{"to": '), send, 'POST', 400);
    const channel = (await conforms(await post(send, JSON.stringify({ ...text('905553330002'), channel: 'nope' })), send, 'POST', 400)) as { error: { code: string } };
    expect(channel.error.code).toBe('unknown_channel');
    await conforms(await post(send, JSON.stringify(text('905553330002')), { 'X-Relay-Priority': 'urgent' }), send, 'POST', 400);
    await conforms(await post(send, JSON.stringify(text('905553330002')), { authorization: 'Bearer wrong-key-123' }), send, 'POST', 401);
    await conforms(await post(send, JSON.stringify(text('905553330002', 'x'.repeat(70_000)))), send, 'POST', 413);
    await conforms(await post(send, 'to=1', { 'content-type': 'application/x-www-form-urlencoded' }), send, 'POST', 415);
    await conforms(await h.get('msg_000000000aaaaaaaaaaaaaaaa'), '/v1/messages/{id}', 'GET', 404);
    await conforms(await h.get('msg_000000000aaaaaaaaaaaaaaaa', 'not-a-key-123'), '/v1/messages/{id}', 'GET', 401);
  });

  it('dead letters: the list, one replay, replay-many and its 400', async () => {
    h.sim.failNext(400, 1);
    const { id } = (await conforms(await post('/v1/messages', JSON.stringify(text('905553330003'))), '/v1/messages', 'POST', 202)) as { id: string };
    await waitFor(async () => ((await json<{ status: string }>(await h.get(id))).status === 'failed' ? true : undefined), { what: 'failed' });
    const list = (await conforms(await h.admin('/v1/dead-letters'), '/v1/dead-letters', 'GET', 200)) as { items: { id: string }[] };
    expect(list.items.map((i) => i.id)).toContain(id);
    await conforms(await fetch(`${h.base}/v1/dead-letters`), '/v1/dead-letters', 'GET', 401);
    await conforms(await h.admin(`/v1/dead-letters/${id}/replay`, 'POST'), '/v1/dead-letters/{id}/replay', 'POST', 202);
    await conforms(await h.admin('/v1/dead-letters/msg_000000000aaaaaaaaaaaaaaaa/replay', 'POST'), '/v1/dead-letters/{id}/replay', 'POST', 404);
    const many = (body: string) =>
      fetch(`${h.base}/v1/dead-letters/replay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body });
    await conforms(await many('{"kind":"message"}'), '/v1/dead-letters/replay', 'POST', 200);
    await conforms(await many('{"kind":"everything"}'), '/v1/dead-letters/replay', 'POST', 400);
  });

  it('callbacks 200 and 401, health and readiness', async () => {
    const sample = readFileSync(join(REPO_ROOT, 'packages/messages/src/testdata/samples/inbound/t01-text.json'));
    const hook = (headers: Record<string, string>) => fetch(`${h.base}/webhooks/cbot`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: sample });
    expect(spec.component('Callback', JSON.parse(sample.toString()))).toEqual([]);
    await conforms(await hook({ authorization: BASIC }), '/webhooks/cbot', 'POST', 200);
    await conforms(await hook({}), '/webhooks/cbot', 'POST', 401);
    await conforms(await fetch(`${h.base}/healthz`), '/healthz', 'GET', 200);
    await conforms(await fetch(`${h.base}/readyz`), '/readyz', 'GET', 200);
  });
});

type Page = { items: { id: string; to: string; status: string; history: { status: string }[] }[]; nextCursor: string | null };
const list = (query: string, key = OTHER_API_KEY) => fetch(`${h.base}/v1/messages${query}`, { headers: { authorization: `Bearer ${key}` } });
const batch = (body: string, headers: Record<string, string> = {}) => post('/v1/messages/batch', body, headers);

describe('the list, the history and the batch conform to the description', () => {
  it('GET /v1/messages: pages, filters, an admin page, 400 invalid_query and 401', async () => {
    // The other caller's messages only, so the pages hold exactly what this test sent.
    const to = '905553331001';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post('/v1/messages', JSON.stringify(text(to, `list ${i}`)), { authorization: `Bearer ${OTHER_API_KEY}` });
      ids.push(((await conforms(res, '/v1/messages', 'POST', 202)) as { id: string }).id);
    }
    await post('/v1/messages', JSON.stringify(text('905553331002')), { authorization: `Bearer ${OTHER_API_KEY}` });
    for (const id of ids) await waitFor(async () => ((await json<{ status: string }>(await h.get(id, OTHER_API_KEY))).status === 'read' ? true : undefined), { what: 'read' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await conforms(await list(`?to=${to}&limit=2${cursor ? `&cursor=${cursor}` : ''}`), '/v1/messages', 'GET', 200)) as Page;
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...ids].reverse());

    const since = new Date(Date.now() - 60_000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const read = (await conforms(await list(`?to=%2B${to}&status=read&since=${since}&until=${until}`), '/v1/messages', 'GET', 200)) as Page;
    expect(read.items.map((i) => i.id)).toEqual([...ids].reverse());
    const none = (await conforms(await list(`?to=${to}&status=failed`), '/v1/messages', 'GET', 200)) as Page;
    expect(none).toEqual({ items: [], nextCursor: null });
    await conforms(await list('?limit=1', ADMIN_KEY), '/v1/messages', 'GET', 200);

    for (const query of ['?limit=0', '?limit=201', '?limit=ten', '?status=lost', '?since=yesterday', `?since=${until}&until=${since}`, '?cursor=nope!', '?page=2', '?to=abc']) {
      const body = (await conforms(await list(query), '/v1/messages', 'GET', 400)) as { error: { code: string; details: unknown[] } };
      expect([query, body.error.code, body.error.details.length > 0]).toEqual([query, 'invalid_query', true]);
    }
    await conforms(await list('', 'not-a-key-123456'), '/v1/messages', 'GET', 401);
  });

  it('GET /v1/messages/{id}: the history of a message sent, delivered and read', async () => {
    const { id } = (await conforms(await post('/v1/messages', JSON.stringify(text('905553331003'))), '/v1/messages', 'POST', 202)) as { id: string };
    await waitFor(async () => ((await json<{ status: string }>(await h.get(id))).status === 'read' ? true : undefined), { what: 'read' });
    const rec = (await conforms(await h.get(id), '/v1/messages/{id}', 'GET', 200)) as Page['items'][number];
    // The order of sent and the callbacks under load is messages-api.int.test.ts's concern; here: each is there.
    expect(rec.history[0]?.status).toBe('queued');
    expect(rec.history.map((e) => e.status)).toEqual(expect.arrayContaining(['sending', 'sent', 'delivered', 'read']));
  });

  it('GET /v1/templates, a refused template send, the priced record and GET /v1/usage', async () => {
    const get = (path: string, key = API_KEY) => fetch(`${h.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    await conforms(await get('/v1/templates'), '/v1/templates', 'GET', 200);
    await conforms(await get('/v1/templates?channel=nope'), '/v1/templates', 'GET', 400);
    await conforms(await get('/v1/templates?x=1'), '/v1/templates', 'GET', 400);
    await conforms(await get('/v1/templates', 'not-a-key-123456'), '/v1/templates', 'GET', 401);
    const unknown = { to: '905553331010', type: 'template', template: { name: 'nope', language: { code: 'en_US' } } };
    await conforms(await post('/v1/messages', JSON.stringify(unknown)), '/v1/messages', 'POST', 400);
    const pending = { ...unknown, template: { name: 'spring_sale', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] } };
    await conforms(await post('/v1/messages', JSON.stringify(pending)), '/v1/messages', 'POST', 400);

    const { id } = (await conforms(await post('/v1/messages', JSON.stringify(text('905553331011'))), '/v1/messages', 'POST', 202)) as { id: string };
    await waitFor(async () => ((await json<{ pricing?: unknown; status: string }>(await h.get(id))).status === 'read' ? true : undefined), { what: 'read' });
    const rec = (await conforms(await h.get(id), '/v1/messages/{id}', 'GET', 200)) as { pricing?: unknown };
    expect(rec.pricing).toEqual({ billable: true, model: 'CBP', category: 'service', type: 'regular' });
    const usage = (await conforms(await get('/v1/usage'), '/v1/usage', 'GET', 200)) as { items: unknown[] };
    expect(usage.items.length).toBeGreaterThan(0);
    await conforms(await get('/v1/usage?caller=other', ADMIN_KEY), '/v1/usage', 'GET', 200);
    await conforms(await get('/v1/usage?since=yesterday'), '/v1/usage', 'GET', 400);
    await conforms(await get('/v1/usage', 'not-a-key-123456'), '/v1/usage', 'GET', 401);
  });

  it('POST /v1/messages/batch: 207 with accepted, invalid and conflicting items; whole-request 400, 401, 413, 415', async () => {
    const path = '/v1/messages/batch';
    await conforms(await post('/v1/messages', JSON.stringify(text('905553331004', 'first')), { 'Idempotency-Key': 'oas-batch-1' }), '/v1/messages', 'POST', 202);
    const items = [
      text('905553331004', 'a'),
      { ...text('905553331004', 'b'), idempotencyKey: 'oas-batch-2' },
      { to: '905553331004', type: 'text', text: {} },
      { ...text('905553331004', 'other than first'), idempotencyKey: 'oas-batch-1' },
      { ...text('905553331004', 'c'), idempotencyKey: 'bad key' },
      text('905553331004', 'x'.repeat(70_000)),
    ];
    const body = (await conforms(await batch(JSON.stringify({ messages: items })), path, 'POST', 207)) as { results: { status: number; error?: { code: string } }[] };
    expect(body.results.map((r) => [r.status, r.error?.code])).toEqual([
      [202, undefined],
      [202, undefined],
      [400, 'invalid_message'],
      [409, 'idempotency_conflict'],
      [400, 'invalid_message'],
      [413, 'payload_too_large'],
    ]);
    for (const [bad, code] of [
      ['{"messages": []}', 'invalid_request'],
      [JSON.stringify({ messages: Array.from({ length: 101 }, () => text('905553331005')) }), 'invalid_request'],
      ['{"messages": [], "dryRun": true}', 'invalid_request'],
      ['[]', 'invalid_request'],
      ['{"messages": ', 'invalid_json'],
    ] as const) {
      const refused = (await conforms(await batch(bad), path, 'POST', 400)) as { error: { code: string } };
      expect([bad.slice(0, 30), refused.error.code]).toEqual([bad.slice(0, 30), code]);
    }
    await conforms(await batch(JSON.stringify({ messages: [text('905553331005')] }), { authorization: 'Bearer wrong-key-123' }), path, 'POST', 401);
    await conforms(await batch(JSON.stringify({ messages: [text('905553331005', 'x'.repeat(1024 * 1024))] })), path, 'POST', 413);
    await conforms(await batch('messages=1', { 'content-type': 'text/plain' }), path, 'POST', 415);
  });
});

const subs = (path: string, method = 'GET', body?: string, key = ADMIN_KEY, headers: Record<string, string> = {}) =>
  fetch(`${h.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body }),
  });

describe('the subscribers API conforms to the description', () => {
  const all = '/v1/subscribers';
  const one = '/v1/subscribers/{name}';
  const rotate = '/v1/subscribers/{name}/rotate-secret';

  it('list, create (queue and http), get, patch, rotate with an overlap, delete', async () => {
    const queue = (await conforms(await subs(all, 'POST', JSON.stringify({ name: 'oas-q', kind: 'queue', types: ['message.received'], maxWaiting: 1000 })), all, 'POST', 201)) as Record<string, unknown>;
    expect(queue).toMatchObject({ kind: 'queue', queue: 'events.oas-q', maxWaiting: 1000, source: 'api' });
    expect(queue.secret).toBeUndefined();
    const http = (await conforms(await subs(all, 'POST', JSON.stringify({ name: 'oas-h', kind: 'http', url: 'https://hooks.example/in' })), all, 'POST', 201)) as Record<string, unknown>;
    expect(http.secret).toMatch(/^whsec_/); // generated: returned this once
    const given = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const withGiven = (await conforms(await subs(all, 'POST', JSON.stringify({ name: 'oas-g', kind: 'http', url: 'https://hooks.example/g', secret: given })), all, 'POST', 201)) as Record<string, unknown>;
    expect(withGiven.secret).toBeUndefined(); // given: not echoed

    const listed = (await conforms(await subs(all), all, 'GET', 200)) as { items: { name: string }[] };
    expect(listed.items.map((s) => s.name)).toEqual(expect.arrayContaining(['oas-q', 'oas-h', 'oas-g']));
    const got = (await conforms(await subs('/v1/subscribers/oas-h'), one, 'GET', 200)) as Record<string, unknown>;
    expect(got.secret).toBeUndefined();
    expect(got.secretFingerprint).toBe(http.secretFingerprint);

    await conforms(await subs('/v1/subscribers/oas-q', 'PATCH', JSON.stringify({ channels: ['default'], enabled: false, maxAgeS: 60 })), one, 'PATCH', 200);
    await conforms(await subs('/v1/subscribers/oas-h', 'PATCH', JSON.stringify({ url: 'https://hooks.example/v2', channels: null })), one, 'PATCH', 200);

    const rotated = (await conforms(await subs('/v1/subscribers/oas-h/rotate-secret', 'POST', JSON.stringify({ overlapSeconds: 3600 })), rotate, 'POST', 200)) as Record<string, unknown>;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.previousSecrets).toEqual([{ fingerprint: http.secretFingerprint, expiresAt: expect.any(String) }]);
    const empty = await subs('/v1/subscribers/oas-g/rotate-secret', 'POST');
    expect(((await conforms(empty, rotate, 'POST', 200)) as { previousSecrets: unknown[] }).previousSecrets).toHaveLength(1);

    for (const name of ['oas-q', 'oas-h', 'oas-g']) {
      const res = await subs(`/v1/subscribers/${name}`, 'DELETE');
      expect(res.status).toBe(204);
      expect(documented(one, 'DELETE', 204)).not.toBe('');
    }
  });

  it('error answers: 400, 401, 404, 409, 413, 415 each with a documented code', async () => {
    const codes: string[] = [];
    const refused = async (res: Response, path: string, method: string, status: number) => {
      codes.push(((await conforms(res, path, method, status)) as { error: { code: string } }).error.code);
    };
    await refused(await fetch(`${h.base}${all}`), all, 'GET', 401);
    await refused(await subs(all, 'GET', undefined, API_KEY), all, 'GET', 401);
    await refused(await subs(all, 'POST', '{"name":'), all, 'POST', 400);
    await refused(await subs(all, 'POST', JSON.stringify({ name: 'a b', kind: 'ftp' })), all, 'POST', 400);
    await refused(await subs(all, 'POST', JSON.stringify({ name: 'x', kind: 'http', url: 'https://e.example/', secret: 'whsec_short' })), all, 'POST', 400);
    await refused(await subs(all, 'POST', JSON.stringify({ name: 'big', kind: 'queue', pad: 'x'.repeat(20_000) })), all, 'POST', 413);
    await refused(await subs(all, 'POST', JSON.stringify({ name: 'x', kind: 'queue' }), ADMIN_KEY, { 'content-encoding': 'br-nope' }), all, 'POST', 415);
    await conforms(await subs(all, 'POST', JSON.stringify({ name: 'oas-dup', kind: 'queue' })), all, 'POST', 201);
    await refused(await subs(all, 'POST', JSON.stringify({ name: 'oas-dup', kind: 'queue' })), all, 'POST', 409);
    await refused(await subs('/v1/subscribers/nosuch'), one, 'GET', 404);
    await refused(await subs('/v1/subscribers/oas-dup', 'PATCH', '{}'), one, 'PATCH', 400);
    await refused(await subs('/v1/subscribers/oas-dup', 'PATCH', JSON.stringify({ url: 'https://e.example/' })), one, 'PATCH', 400);
    await refused(await subs('/v1/subscribers/nosuch', 'PATCH', JSON.stringify({ enabled: true })), one, 'PATCH', 404);
    await refused(await subs('/v1/subscribers/oas-dup', 'PATCH', JSON.stringify({ enabled: true }), 'wrong-key-123'), one, 'PATCH', 401);
    await refused(await subs('/v1/subscribers/nosuch', 'DELETE'), one, 'DELETE', 404);
    await refused(await subs('/v1/subscribers/oas-dup/rotate-secret', 'POST', '{}'), rotate, 'POST', 409);
    await refused(await subs('/v1/subscribers/nosuch/rotate-secret', 'POST', '{}'), rotate, 'POST', 404);
    await refused(await subs('/v1/subscribers/oas-dup/rotate-secret', 'POST', JSON.stringify({ overlapSeconds: '60' })), rotate, 'POST', 400);
    expect(new Set(codes)).toEqual(new Set(['unauthorized', 'invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_encoding', 'subscriber_exists', 'not_found', 'no_secret']));
    expect((await subs('/v1/subscribers/oas-dup', 'DELETE')).status).toBe(204);
  });
});

describe('media routes against the document', () => {
  const media = '/v1/media';
  const one = '/v1/media/{id}';
  const upload = (body: string, type: string, key = API_KEY, query = '') =>
    fetch(`${h.base}${media}${query}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': type }, body });

  it('upload 201 and the download; 400, 401, 404, 415 each with a documented code', async () => {
    const up = (await conforms(await upload('%PDF-1.4', 'application/pdf'), media, 'POST', 201)) as { id: string };
    const got = await fetch(`${h.base}/v1/media/${up.id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect([got.status, got.headers.get('content-type'), await got.text()]).toEqual([200, 'application/pdf', '%PDF-1.4']);
    await conforms(await upload('x', 'image/gif'), media, 'POST', 415);
    await conforms(await upload('x', 'image/png', 'wrong-key-123'), media, 'POST', 401);
    await conforms(await upload('x', 'image/png', API_KEY, '?channel=nowhere'), media, 'POST', 400);
    await conforms(await upload('--b\r\n', 'multipart/form-data; boundary=b'), media, 'POST', 400);
    await conforms(await fetch(`${h.base}/v1/media/424242`, { headers: { authorization: `Bearer ${API_KEY}` } }), one, 'GET', 404);
  });
});
