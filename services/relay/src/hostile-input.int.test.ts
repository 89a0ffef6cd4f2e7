import { request } from 'node:http';
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, startHarness } from './test-kit/harness.js';

let h: Harness;
let redis: Redis;
beforeAll(async () => {
  // Ingress only: whatever slipped through would stay visible in Redis instead of being processed away.
  h = await startHarness({ env: { RELAY_ROLES: 'ingress', API_KEY_RATE_LIMIT: '0' } });
  redis = new Redis(h.redis.url);
});
afterAll(async () => {
  redis.disconnect();
  await h.close();
});

/** Raw HTTP, so bodies can be any bytes and headers anything Node lets through. */
function post(path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.base}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const jsonHeaders = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

/** Inputs that are not a valid message in many different ways. */
const malformed = fc.oneof(
  // broken JSON: a valid document cut short or with a byte flipped
  fc.tuple(fc.json(), fc.nat()).map(([j, n]) => Buffer.from(j.slice(0, Math.max(0, j.length - 1 - (n % Math.max(1, j.length)))) + '\u0000')),
  fc.string().filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((s) => Buffer.from(s)),
  // valid JSON of the wrong shape or types
  fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !('to' in v)).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.record({ to: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())), type: fc.constantFrom('text', 'image', 'template') }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.record({ to: fc.string({ minLength: 1 }), type: fc.string().filter((t) => !['text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contacts', 'interactive', 'template', 'reaction'].includes(t)) }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.record({ to: fc.constant('905551112233'), type: fc.constant('text'), text: fc.oneof(fc.constant({}), fc.record({ body: fc.oneof(fc.integer(), fc.constant(''), fc.constant(null)) })) }).map((v) => Buffer.from(JSON.stringify(v))),
  // deep nesting
  fc.integer({ min: 65, max: 20_000 }).map((d) => Buffer.from(`{"to":"1","type":"text","text":{"body":"x"},"x":${'['.repeat(d)}${']'.repeat(d)}}`)),
  // huge strings (over 64 KiB)
  fc.integer({ min: 65_537, max: 200_000 }).map((n) => Buffer.from(`{"to":"1","type":"text","text":{"body":"${'a'.repeat(n)}"}}`)),
  // invalid UTF-8 inside an otherwise valid message
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bad) => Buffer.concat([Buffer.from('{"to":"1","type":"text","text":{"body":"'), Buffer.from([0xff, ...bad, 0xc3]), Buffer.from('"}}')])),
  // prototype-pollution keys on an invalid message
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => Buffer.from(`{"${k}":{"polluted":true,"to":"1"},"type":"text","text":{"${k}":{"body":"x"}}}`)),
);

describe('hostile input on POST /v1/messages', () => {
  it('answers 4xx to 600 generated malformed bodies, stays up, and writes nothing to Redis', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(malformed, async (body) => {
        const res = await post('/v1/messages', body, jsonHeaders);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        const parsed = JSON.parse(res.body) as { error: { code: string; message: string } };
        expect(typeof parsed.error.code).toBe('string');
      }),
      { numRuns: 600 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    expect([...statuses.keys()].every((s) => [400, 413].includes(s))).toBe(true);
    // Nothing of any refused body: no record, no body, no queue entry, no backlog.
    const written = async () => ({
      records: (await redis.keys(`${h.prefix}:msg:*`)).length,
      bodies: (await redis.keys(`${h.prefix}:body:*`)).length,
      queues: (await redis.keys(`${h.prefix}:o:q:*`)).length,
      backlog: await redis.zcard(`${h.prefix}:open`),
    });
    expect(await written()).toEqual({ records: 0, bodies: 0, queues: 0, backlog: 0 });
    // The check can see a message: a valid one leaves exactly one of each.
    const ok = await post('/v1/messages', Buffer.from('{"to":"905551112233","type":"text","text":{"body":"x"}}'), jsonHeaders);
    expect(ok.status).toBe(202);
    expect(await written()).toEqual({ records: 1, bodies: 1, queues: 1, backlog: 1 });
  });

  it('answers 4xx to hostile headers and never reflects them', async () => {
    const valid = Buffer.from('{"to":"905551112233","type":"text","text":{"body":"x"}}');
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '~')), async (junk) => {
        const auth = await post('/v1/messages', valid, { authorization: `Bearer ${junk}`, 'content-type': 'application/json' });
        expect(auth.status).toBe(401);
        expect(auth.body).not.toContain(junk.length > 3 ? junk : '\u0000');
        const ct = await post('/v1/messages', valid, { ...jsonHeaders, 'content-type': `text/${junk.replace(/[;/]/g, 'x')}` });
        expect(ct.status).toBe(415);
      }),
      { numRuns: 150 },
    );
    const idem = await post('/v1/messages', valid, { ...jsonHeaders, 'idempotency-key': 'a b\tc' });
    expect(idem.status).toBe(400);
    const reqId = await fetch(`${h.base}/healthz`, { headers: { 'x-request-id': 'evil value<script>' } });
    expect(reqId.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('hostile input on scheduling and cancel', () => {
  it('answers 400 to generated bad X-Relay-Send-At and X-Relay-Tag values, never reflects them, and queues nothing', async () => {
    const valid = Buffer.from('{"to":"905551112299","type":"text","text":{"body":"x"}}');
    const before = (await redis.keys(`${h.prefix}:msg:*`)).length;
    const junk = fc.string({ minLength: 1, maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '~').trim());
    await fc.assert(
      fc.asyncProperty(junk.filter((s) => s.length > 0 && Number.isNaN(Date.parse(s))), junk.filter((s) => !/^[A-Za-z0-9._:-]{1,64}$/.test(s)), async (at, tag) => {
        for (const headers of [{ 'x-relay-send-at': at }, { 'x-relay-tag': tag }] as Record<string, string>[]) {
          const res = await post('/v1/messages', valid, { ...jsonHeaders, ...headers });
          expect(res.status).toBe(400);
          const v = Object.values(headers)[0]!;
          if (v.length > 3) expect(res.body).not.toContain(v);
        }
      }),
      { numRuns: 150 },
    );
    expect((await redis.keys(`${h.prefix}:msg:*`)).length).toBe(before);
  });

  it('answers 4xx to generated malformed cancel bodies and cancels nothing', async () => {
    await fc.assert(
      fc.asyncProperty(malformed, async (body) => {
        const res = await post('/v1/messages/cancel', body, jsonHeaders);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    expect((await post('/v1/messages/cancel', Buffer.from('{"tag":"ok"}'), { 'content-type': 'application/json' })).status).toBe(401);
    expect((await fetch(`${h.base}/v1/messages/msg_000000000aaaaaaaaaaaaaaaa`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });
});

/** `{}`, `{"typing": true}` or `{"typing": false}`: the only bodies the read route takes. */
const isReadBody = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => k === 'typing') && ['boolean', 'undefined'].includes(typeof (v as { typing?: unknown }).typing);

describe('hostile input on POST /v1/messages/{wamid}/read', () => {
  const notAReadBody = fc.oneof(
    fc.string({ minLength: 1 }).filter((t) => { try { JSON.parse(t); return false; } catch { return true; } }).map((t) => Buffer.from(t)),
    fc.jsonValue().filter((v) => !isReadBody(v)).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.integer({ min: 65, max: 5_000 }).map((d) => Buffer.from(`{"typing":${'['.repeat(d)}${']'.repeat(d)}}`)),
    fc.integer({ min: 1_025, max: 100_000 }).map((n) => Buffer.from(`{"typing":true,"x":"${'a'.repeat(n)}"}`)),
  );
  const badWamid = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }).filter((w) => /[^A-Za-z0-9._:=+/-]/.test(w)),
    fc.integer({ min: 257, max: 2_000 }).map((n) => 'w'.repeat(n)),
  );

  it('answers 4xx to generated malformed bodies and wamids and takes no receipt', async () => {
    await fc.assert(
      fc.asyncProperty(notAReadBody, async (body) => {
        const res = await post('/v1/messages/wamid.HOSTILE/read', body, jsonHeaders);
        expect([400, 413]).toContain(res.status);
        expect(typeof (JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('string');
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(badWamid, async (wamid) => {
        const res = await post(`/v1/messages/${encodeURIComponent(wamid)}/read`, Buffer.alloc(0), { authorization: `Bearer ${API_KEY}` });
        expect([400, 404, 414, 431]).toContain(res.status);
      }),
      { numRuns: 150 },
    );
    const receipts = async () => (await redis.keys(`${h.prefix}:rcpt:*`)).length + (await redis.zcard(`${h.prefix}:o:rcpt`));
    expect(await receipts()).toBe(0);
    expect((await post('/v1/messages/wamid.HOSTILE/read', Buffer.alloc(0), { authorization: 'Bearer nope' })).status).toBe(401);
    // The check can see a receipt: a valid one leaves its hash and its queue entry.
    expect((await post('/v1/messages/wamid.HOSTILE/read', Buffer.from('{"typing":true}'), jsonHeaders)).status).toBe(202);
    expect(await receipts()).toBe(2);
  });
});

describe('hostile input on POST /webhooks/cbot', () => {
  const notJson = fc.oneof(
    fc.string().filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((s) => Buffer.from(s)),
    fc.integer({ min: 65, max: 20_000 }).map((d) => Buffer.from(`{"messages":${'['.repeat(d)}${']'.repeat(d)}}`)),
    fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bad) => Buffer.concat([Buffer.from('{"messages":[{"id":"'), Buffer.from([0xfe, ...bad, 0xff]), Buffer.from('"}]}')])),
    fc.integer({ min: 1_048_577, max: 1_300_000 }).map((n) => Buffer.alloc(n, 0x20)),
  );

  it('answers 4xx to 500 generated malformed callbacks and enqueues nothing', async () => {
    const before = await h.callbacksTaken();
    await fc.assert(
      fc.asyncProperty(notJson, async (body) => {
        const res = await post('/webhooks/cbot', body, { authorization: BASIC, 'content-type': 'application/json' });
        expect([400, 413]).toContain(res.status);
      }),
      { numRuns: 500 },
    );
    expect(await h.callbacksTaken()).toBe(before);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    // The check above can see a callback: a well-formed one is taken.
    const ok = await post('/webhooks/cbot', Buffer.from('{"messages":[]}'), { authorization: BASIC, 'content-type': 'application/json' });
    expect(ok.status).toBe(200);
    expect(await h.callbacksTaken()).toBe(before + 1);
  });

  it('refuses any generated credentials that are not the configured ones', async () => {
    const before = await h.callbacksTaken();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), async (user, pass) => {
        fc.pre(!(user === 'cbot-relay' && pass === 's3cr3t-pass'));
        const auth = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        const res = await post('/webhooks/cbot', Buffer.from('{"messages":[]}'), { authorization: auth, 'content-type': 'application/json' });
        expect(res.status).toBe(401);
      }),
      { numRuns: 200 },
    );
    expect(await h.callbacksTaken()).toBe(before);
  });
});

describe('hostile input on the console', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const noSession = async (res: Promise<{ status: number; body: string }>) => {
    const r = await res;
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    return r;
  };

  it('refuses oversized, over-many, repeated and broken sign-in forms with a 4xx and no session', async () => {
    await noSession(post('/console/login', Buffer.from(`key=${'a'.repeat(100_000)}`), form));
    await noSession(post('/console/login', Buffer.from(Array.from({ length: 2000 }, (_, i) => `f${i}=1`).join('&')), form));
    await noSession(post('/console/login', Buffer.from(`key=${encodeURIComponent(ADMIN_KEY)}&key=${encodeURIComponent(ADMIN_KEY)}`), form));
    await noSession(post('/console/login', Buffer.from('key=%ZZ%E0%80'), form));
    await noSession(post('/console/login', Buffer.from(JSON.stringify({ key: ADMIN_KEY })), { 'content-type': 'application/json' }));
    await noSession(post('/console/login', Buffer.from([0xff, 0xfe, 0x00, 0x3d]), form));
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('escapes whatever a search or an id holds, and answers a strange id with a 404 page', async () => {
    const login = await post('/console/login', Buffer.from(`key=${encodeURIComponent(ADMIN_KEY)}`), form);
    expect(login.status).toBe(303);
    const cookie = await new Promise<string>((resolve, reject) => {
      const req = request(`${h.base}/console/login`, { method: 'POST', headers: { ...form, 'content-length': String(Buffer.byteLength(`key=${ADMIN_KEY}`)) } }, (res) => {
        res.resume();
        resolve(res.headers['set-cookie']![0]!.split(';')[0]!);
      });
      req.on('error', reject);
      req.end(`key=${ADMIN_KEY}`);
    });
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    for (const path of [`/console/messages?q=${encodeURIComponent(evil)}`, `/console/messages?caller=${encodeURIComponent(evil)}&since=${encodeURIComponent(evil)}`, `/console/messages/${encodeURIComponent(evil)}`, `/console/dead-letters?caller=${encodeURIComponent(evil)}&before=${encodeURIComponent(evil)}`]) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie } });
      expect(res.status, path).toBeLessThan(500);
      const body = await res.text();
      expect(body, path).not.toContain('<script>');
      expect(body, path).not.toContain('<img src=x');
    }
    expect((await fetch(`${h.base}/console/messages/${'x'.repeat(5000)}`, { headers: { cookie } })).status).toBe(404);
  });
});

describe('hostile input on GET /v1/templates and GET /v1/usage', () => {
  const get = async (path: string, key: string | null = API_KEY) => {
    const res = await fetch(`${h.base}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.text() };
  };
  const param = fc.constantFrom('since', 'until', 'channel', 'caller', 'limit', 'channel[]', '__proto__', 'since[a]');
  const value = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('2026-13-45T00:00:00Z', '1733443200', '../default', 'default', '2026-01-01T00:00:00Z', ''), fc.string({ minLength: 2000, maxLength: 4000 }));

  it('answers 200 or a 4xx with an error body to generated queries, never a 5xx, never echoing the input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/usage', '/v1/templates'), fc.array(fc.tuple(param, value), { maxLength: 4 }), fc.boolean(), async (path, pairs, admin) => {
        const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const res = await get(`${path}${query ? `?${query}` : ''}`, admin && path === '/v1/usage' ? ADMIN_KEY : API_KEY);
        expect([200, 400, 403], res.body).toContain(res.status);
        const parsed = JSON.parse(res.body) as { error?: { code: string } };
        if (res.status !== 200) expect(parsed.error?.code).toMatch(/^(invalid_query|unknown_channel|channel_forbidden)$/);
        for (const [, v] of pairs) if (v.length > 8 && res.status !== 200) expect(res.body).not.toContain(v);
      }),
      // Each usage query reads up to 400 daily buckets per partition: 80 runs keep the file within its
      // time on a loaded 2-core machine (150 timed out there).
      { numRuns: 80 },
    );
  }, 120_000);

  it('refuses missing and wrong keys, and other methods', async () => {
    for (const path of ['/v1/templates', '/v1/usage']) {
      expect((await get(path, null)).status).toBe(401);
      expect((await get(path, 'x'.repeat(300))).status).toBe(401);
      const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } });
      expect(res.status).toBe(404);
    }
  });
});
