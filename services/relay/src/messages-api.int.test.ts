import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

type History = { status: string; at: string; cbotAt?: string; error?: unknown }[];
type Rec = { id: string; status: string; to: string; cbotMessageId: string | null; history: History; priority: string; caller?: string };
type Page = { items: Rec[]; nextCursor: string | null };
type ErrorBody = { error: { code: string; message: string; details: { path: string; message: string }[] } };
type BatchAnswer = { results: ({ status: 202; id: string } | { status: number; error: ErrorBody['error'] })[] };

const list = (query: string, key = API_KEY) => fetch(`${h.base}/v1/messages${query}`, { headers: { authorization: `Bearer ${key}` } });
const batch = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.base}/v1/messages/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const text = (to: string, body: string) => ({ to, type: 'text', text: { body } });
const record = async (id: string) => json<Rec>(await h.get(id));
const statuses = (r: Rec) => r.history.map((e) => e.status);

async function allPages(query: string, key = API_KEY): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`, key);
    expect(res.status).toBe(200);
    const page = await json<Page>(res);
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 50);
  return { ids, pages };
}

describe('message history', () => {
  it('shows each status with its time and CBOT’s timestamp, and a redelivered callback adds nothing', async () => {
    const to = '905552220001';
    const { id } = await json<{ id: string }>(await h.send(text(to, 'history')));
    const rec = await waitFor(async () => {
      const r = await record(id);
      return r.status === 'read' ? r : undefined;
    });
    expect(statuses(rec)).toEqual(['queued', 'sending', 'sent', 'delivered', 'read']);
    const times = rec.history.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // delivered and read came from callbacks, which carry CBOT's own time (whole seconds).
    for (const e of rec.history.slice(3)) expect(e.cbotAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

    // CBOT retries the delivered callback: the record stays as it was.
    const callback = { statuses: [{ id: rec.cbotMessageId, status: 'delivered', recipient_id: to, timestamp: String(Math.floor(Date.now() / 1000)) }] };
    const duplicates = async () => (await h.metrics.duplicateEvents.get()).values[0]?.value ?? 0;
    const before = await duplicates();
    const res = await fetch(`${h.base}/webhooks/cbot`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify(callback),
    });
    expect(res.status).toBe(200);
    // The fanout applied it to the record and then found its event a duplicate.
    await waitFor(async () => (await duplicates()) > before, { what: 'the redelivered callback to be processed' });
    expect((await record(id)).history).toEqual(rec.history);
  });
});

describe('GET /v1/messages', () => {
  it('lists the caller’s messages newest first, filtered and paged; another caller sees none of them; an admin sees all', async () => {
    const a = '905553330001';
    const b = '905553330002';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await json<{ id: string }>(await h.send(text(i % 2 ? b : a, `list ${i}`)))).id);
    const other = await json<{ id: string }>(
      await fetch(`${h.base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(text(a, 'other caller')),
      }),
    );

    // Paged two at a time, following nextCursor, to recipient a (given as a caller would type it).
    const toA = await allPages(`?to=${encodeURIComponent(' +' + a)}&limit=2`);
    expect(toA.ids).toEqual([ids[4], ids[2], ids[0]]);
    expect(toA.pages).toBe(2);
    // The other caller's message to the same number is not the caller's, and the other way round.
    expect((await allPages(`?to=${a}`, OTHER_API_KEY)).ids).toEqual([other.id]);
    const admin = await allPages(`?to=${a}&limit=200`, ADMIN_KEY);
    expect(admin.ids).toEqual([other.id, ids[4], ids[2], ids[0]]);
    const adminPage = await json<Page>(await list(`?to=${a}&limit=1`, ADMIN_KEY));
    expect(adminPage.items[0]?.caller).toBe('other');
    const callerPage = await json<Page>(await list(`?to=${a}&limit=1`));
    expect(callerPage.items[0]).not.toHaveProperty('caller');
    expect(callerPage.items[0]).toMatchObject({ id: ids[4], to: a, history: expect.any(Array) });

    // By status, once the simulator's callbacks have read them all.
    for (const id of ids) await waitFor(async () => (await record(id)).status === 'read');
    const read = await allPages(`?to=${b}&status=read`);
    expect(read.ids).toEqual([ids[3], ids[1]]);
    expect((await allPages(`?to=${b}&status=queued`)).ids).toEqual([]);

    // since (inclusive) and until (exclusive) by acceptance time.
    const created = await Promise.all(ids.map(async (id) => Date.parse((await json<{ createdAt: string }>(await h.get(id))).createdAt)));
    const since = new Date(created[1]!).toISOString();
    const until = new Date(created[4]!).toISOString();
    const window = await allPages(`?since=${since}&until=${until}&limit=200`);
    const expected = ids.filter((_, i) => created[i]! >= created[1]! && created[i]! < created[4]!).reverse();
    expect(expected).toContain(ids[1]);
    expect(window.ids.filter((id) => ids.includes(id))).toEqual(expected);
  });

  it('refuses bad query values naming the parameter, and unknown keys', async () => {
    const cases: [string, string][] = [
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=ten', 'limit'],
      ['?status=lost', 'status'],
      ['?since=yesterday', 'since'],
      ['?until=2026-13-01T00:00:00Z', 'until'],
      ['?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
      ['?to=90-555', 'to'],
      ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['?status=sent&status=read', 'status'],
      ['?sort=asc', 'sort'],
    ];
    for (const [query, path] of cases) {
      const res = await list(query);
      expect(res.status, query).toBe(400);
      const err = (await json<ErrorBody>(res)).error;
      expect(err.code, query).toBe('invalid_query');
      expect(err.details.map((d) => d.path), query).toContain(path);
    }
    expect((await list('')).status).toBe(200);
  });

  it('needs a caller or admin key', async () => {
    expect((await fetch(`${h.base}/v1/messages`)).status).toBe(401);
    const res = await list('', 'not-a-key-123456');
    expect(res.status).toBe(401);
    expect((await json<ErrorBody>(res)).error.code).toBe('unauthorized');
  });
});

describe('POST /v1/messages/batch', () => {
  it('makes each good item durable and refuses each bad one on its own, in item order', async () => {
    const to = '905554440001';
    const big = 'x'.repeat(4000);
    const res = await batch(
      {
        messages: [
          text(to, 'b0'),
          { to, type: 'text', text: {} },
          text(to, 'b2'),
          { ...text(to, 'bad key'), idempotencyKey: 'has space' },
          { to, type: 'text', text: { body: big }, preview_url: false, extra: 'y'.repeat(70_000) },
          text(to, 'b5'),
          'not an object',
        ],
      },
      { 'x-relay-priority': 'bulk', 'x-relay-expires-in': '3600' },
    );
    expect(res.status).toBe(207);
    const { results } = await json<BatchAnswer>(res);
    expect(results.map((r) => r.status)).toEqual([202, 400, 202, 400, 413, 202, 400]);
    const bad = results[1] as { error: ErrorBody['error'] };
    expect(bad.error.code).toBe('invalid_message');
    expect(bad.error.details.map((d) => d.path)).toContain('text.body');
    expect((results[3] as { error: ErrorBody['error'] }).error.details.map((d) => d.path)).toEqual(['idempotencyKey']);
    expect((results[4] as { error: ErrorBody['error'] }).error.code).toBe('payload_too_large');

    const ids = results.flatMap((r) => ('id' in r ? [r.id] : []));
    // The batch's headers apply to every item, and the recipient's messages leave in batch order.
    for (const id of ids) expect(await json<Rec>(await h.get(id))).toMatchObject({ priority: 'bulk', expiresAt: expect.any(String) });
    await waitFor(async () => (await Promise.all(ids.map(record))).every((r) => r.cbotMessageId !== null));
    const sent = h.sim
      .received()
      .filter((m) => (m.body as { to?: string }).to === to)
      .map((m) => (m.body as { text: { body: string } }).text.body);
    expect(sent).toEqual(['b0', 'b2', 'b5']);
  });

  it('keeps each item’s idempotencyKey: a repeat answers the first id, another body is 409', async () => {
    const to = '905554440002';
    const first = await json<BatchAnswer>(
      await batch({ messages: [{ ...text(to, 'once'), idempotencyKey: 'order-77' }, { ...text(to, 'once'), idempotencyKey: 'order-77' }] }),
    );
    const id = (first.results[0] as { id: string }).id;
    // The second item of the same batch is already a repeat of the first.
    expect(first.results).toEqual([
      { status: 202, id, window: 'unknown' },
      { status: 202, id, window: 'unknown' },
    ]);
    const again = await json<BatchAnswer>(
      await batch({ messages: [{ ...text(to, 'once'), idempotencyKey: 'order-77' }, { ...text(to, 'changed'), idempotencyKey: 'order-77' }] }),
    );
    expect(again.results[0]).toEqual({ status: 202, id, window: 'unknown' });
    expect(again.results[1]).toMatchObject({ status: 409, error: { code: 'idempotency_conflict' } });
    // The same key on the single send API is the same key.
    const single = await h.send(text(to, 'once'), { 'idempotency-key': 'order-77' });
    expect((await json<{ id: string }>(single)).id).toBe(id);
    await waitFor(async () => (await record(id)).cbotMessageId !== null);
    expect(h.sim.received().filter((m) => (m.body as { to?: string }).to === to)).toHaveLength(1);
  });

  it('refuses a whole request that is not a batch, with the usual statuses', async () => {
    const cases: [string, unknown, Record<string, string>, number, string][] = [
      ['not JSON', '{"messages": [', {}, 400, 'invalid_json'],
      ['an array', [text('905554440003', 'x')], {}, 400, 'invalid_request'],
      ['messages not an array', { messages: {} }, {}, 400, 'invalid_request'],
      ['no items', { messages: [] }, {}, 400, 'invalid_request'],
      ['101 items', { messages: Array.from({ length: 101 }, () => text('905554440003', 'x')) }, {}, 400, 'invalid_request'],
      ['an unknown field', { messages: [text('905554440003', 'x')], dryRun: true }, {}, 400, 'invalid_request'],
      ['over 1 MiB', { messages: [{ ...text('905554440003', 'x'), pad: 'p'.repeat(1024 * 1024) }] }, {}, 413, 'payload_too_large'],
      ['not JSON content', { messages: [] }, { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
      ['a compressed body', { messages: [text('905554440003', 'x')] }, { 'content-encoding': 'gzip' }, 415, 'unsupported_encoding'],
      ['an Idempotency-Key header', { messages: [text('905554440003', 'x')] }, { 'idempotency-key': 'k' }, 400, 'invalid_header'],
      ['a bad priority', { messages: [text('905554440003', 'x')] }, { 'x-relay-priority': 'urgent' }, 400, 'invalid_header'],
      ['no key', { messages: [text('905554440003', 'x')] }, { authorization: '' }, 401, 'unauthorized'],
    ];
    for (const [what, body, headers, status, code] of cases) {
      const res = await batch(body, headers);
      expect(res.status, what).toBe(status);
      expect((await json<ErrorBody>(res)).error.code, what).toBe(code);
    }
    expect(h.sim.received().filter((m) => (m.body as { to?: string }).to === '905554440003')).toHaveLength(0);
  });

  it('writes the items in one Redis script call, and answers 429 backlog_full per item once the backlog is full', async () => {
    // Ingress only (nothing drains the backlog, no other scripts run), no per-key rate limit script.
    const small = await startHarness({ env: { RELAY_ROLES: 'ingress', OUTBOUND_BACKLOG_MAX: '3', API_KEY_RATE_LIMIT: '0' } });
    const client = new Redis(small.redis.url);
    const scriptCalls = async () =>
      [...(await client.info('commandstats')).matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    try {
      const calls = await scriptCalls();
      const res = await fetch(`${small.base}/v1/messages/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: Array.from({ length: 5 }, (_, i) => text(`90555445000${i}`, 'full')) }),
      });
      expect(res.status).toBe(207);
      expect(res.headers.get('retry-after')).toBe('5');
      const { results } = await json<BatchAnswer>(res);
      expect(results.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
      expect(results[3]).toMatchObject({ error: { code: 'backlog_full' } });
      expect(await scriptCalls()).toBe(calls + 1);
    } finally {
      client.disconnect();
      await small.close();
    }
  });
});
