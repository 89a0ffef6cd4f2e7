import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { API_KEY, json, startHarness } from './test-kit/harness.js';

type Result = { line: number; status: number; id?: string; error?: { code: string } };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { INGRESS_MAX_BODY_BYTES: '4096' } });
});
afterAll(async () => {
  await h.close();
});

const NDJSON = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-ndjson' };

async function stream(body: Buffer | string, headers: Record<string, string> = {}): Promise<{ res: Response; results: Result[] }> {
  const res = await fetch(`${h.base}/v1/messages/stream`, { method: 'POST', headers: { ...NDJSON, ...headers }, body });
  const text = await res.text();
  const results = res.status === 200 ? text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Result) : [];
  return { res, results };
}

/** A POST whose body is written by the test; the answer's head arrives on `response`. */
function open(headers: Record<string, string>): { req: ReturnType<typeof request>; response: Promise<IncomingMessage> } {
  const req = request(`${h.base}/v1/messages/stream`, { method: 'POST', headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  req.flushHeaders();
  return { req, response };
}

const text = (to: string, body: string) => JSON.stringify({ to, type: 'text', text: { body } });

describe('POST /v1/messages/stream', () => {
  it('answers one result per line in line order, bad lines with their own errors, and CBOT gets a recipient in line order', async () => {
    const to = '905557770001';
    const lines: (string | Buffer)[] = [];
    const good: string[] = [];
    for (let i = 0; i < 120; i++) {
      const body = `m${i}`;
      good.push(body);
      lines.push(text(to, body));
      if (i === 10) lines.push('not json');
      if (i === 20) lines.push('');
      if (i === 30) lines.push(text(to, 'x'.repeat(5000)));
      if (i === 40) lines.push(JSON.stringify({ to, type: 'text' }));
      if (i === 50) lines.push(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      if (i === 60) lines.push(Buffer.from([0x00, 0x01, 0x02, 0x9f, 0x10]));
      if (i === 70) lines.push(`${text(to, 'crlf')}\r`);
    }
    good.splice(71, 0, 'crlf');
    const body = Buffer.concat(lines.map((l, i) => Buffer.concat([Buffer.from(l), Buffer.from(i === lines.length - 1 ? '' : '\n')])));
    const { res, results } = await stream(body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const expectedLines = lines.map((l, i) => (l.length === 0 ? undefined : i + 1)).filter((n) => n !== undefined);
    expect(results.map((r) => r.line)).toEqual(expectedLines);
    const bad = results.filter((r) => r.status !== 202).map((r) => [lines[r.line - 1]!.toString().slice(0, 8), r.status, r.error?.code]);
    expect(bad).toEqual([
      ['not json', 400, 'invalid_json'],
      [text(to, 'x').slice(0, 8), 413, 'payload_too_large'],
      [JSON.stringify({ to, type: 'text' }).slice(0, 8), 400, 'invalid_message'],
      [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString().slice(0, 8), 400, 'invalid_utf8'],
      [Buffer.from([0x00, 0x01, 0x02, 0x9f, 0x10]).toString().slice(0, 8), 400, 'invalid_utf8'],
    ]);
    const ids = results.filter((r) => r.status === 202).map((r) => r.id);
    expect(new Set(ids).size).toBe(good.length);
    const got = await waitFor(() => {
      const mine = h.sim.received().filter((m) => m.to === to);
      return mine.length >= good.length ? mine : undefined;
    }, { what: 'every good line at CBOT', timeoutMs: 30_000 });
    expect(got.map((m) => (m.body as { text: { body: string } }).text.body)).toEqual(good);
  });

  it('takes an idempotencyKey per line: the same key again answers the same id', async () => {
    const lines = [0, 1, 2].map((i) => JSON.stringify({ to: '905557770002', type: 'text', text: { body: `k${i}` }, idempotencyKey: `stream-key-${i}` }));
    const first = await stream(lines.join('\n'));
    const again = await stream(`${lines.join('\n')}\n`);
    expect(first.results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(again.results.map((r) => r.id)).toEqual(first.results.map((r) => r.id));
    const conflict = await stream(JSON.stringify({ to: '905557770002', type: 'text', text: { body: 'other' }, idempotencyKey: 'stream-key-0' }));
    expect(conflict.results).toMatchObject([{ line: 1, status: 409, error: { code: 'idempotency_conflict' } }]);
  });

  it('takes sendAt and tag per line as batch items do', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const { results } = await stream(
      [
        JSON.stringify({ to: '905557770005', type: 'text', text: { body: 'later' }, sendAt: later, tag: 'camp-stream-1' }),
        JSON.stringify({ to: '905557770005', type: 'text', text: { body: 'bad' }, sendAt: 'tomorrow' }),
      ].join('\n'),
    );
    expect(results.map((r) => [r.line, r.status])).toEqual([[1, 202], [2, 400]]);
    expect(await json<{ status: string }>(await h.get(results[0]!.id!))).toMatchObject({ status: 'scheduled' });
  });

  it.each([
    ['no API key', { 'content-type': 'application/x-ndjson' }, 401, 'unauthorized'],
    ['JSON instead of NDJSON', { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, 415, 'unsupported_media_type'],
    ['an Idempotency-Key header', { ...NDJSON, 'idempotency-key': 'k' }, 400, 'invalid_header'],
    ['a bad priority', { ...NDJSON, 'x-relay-priority': 'urgent' }, 400, 'invalid_header'],
    ['a compressed body', { ...NDJSON, 'content-encoding': 'gzip' }, 415, 'unsupported_encoding'],
  ])('refuses %s before reading the body', async (_name, headers, status, code) => {
    // The body is never sent: the answer must come without it.
    const { req, response } = open({ ...headers, 'transfer-encoding': 'chunked' });
    const res = await response;
    expect(res.statusCode).toBe(status);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    expect((JSON.parse(Buffer.concat(chunks).toString()) as { error: { code: string } }).error.code).toBe(code);
    req.destroy();
  });

  it('answers lines while the body is still arriving, and keeps what was accepted when the client goes away mid-line', async () => {
    const to = '905557770003';
    const { req, response } = open({ ...NDJSON, 'transfer-encoding': 'chunked' });
    req.write(`${text(to, 'a1')}\n${text(to, 'a2')}\n`);
    const res = await response;
    expect(res.statusCode).toBe(200);
    // Both results come before the body ends: the answer is streamed.
    let seen = '';
    for await (const c of res) {
      seen += (c as Buffer).toString();
      if (seen.split('\n').length > 2) break;
    }
    const results = seen.trim().split('\n').map((l) => JSON.parse(l) as Result);
    expect(results.map((r) => [r.line, r.status])).toEqual([[1, 202], [2, 202]]);
    // Half a line, then the client is gone.
    req.write(text(to, 'half').slice(0, 20));
    req.destroy();
    for (const r of results) expect((await h.get(r.id!)).status).toBe(200);
    await waitFor(() => h.sim.received().filter((m) => m.to === to).length === 2, { what: 'the two accepted lines at CBOT' });
    const listed = await json<{ items: { to: string }[] }>(await fetch(`${h.base}/v1/messages?limit=100`, { headers: { authorization: `Bearer ${API_KEY}` } }));
    expect(listed.items.filter((m) => m.to === to)).toHaveLength(2);
  });

  it('answers each line 503 while Redis is down, after the lines it accepted before, and the request stays 200', async () => {
    // Its own Redis, stopped mid-stream; no per-key limit, so the admission does not need Redis.
    const local = await LocalRedis.start();
    const down = await startHarness({
      redis: { url: local.url, kind: 'local', close: () => local.close(), [Symbol.asyncDispose]: () => local.close() },
      env: { RELAY_ROLES: 'ingress', API_KEY_RATE_LIMIT: '0', REDIS_ANSWER_TIMEOUT_MS: '500' },
    });
    try {
      const to = '905557770004';
      const req = request(`${down.base}/v1/messages/stream`, { method: 'POST', headers: { ...NDJSON, 'transfer-encoding': 'chunked' } });
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.once('error', reject);
      });
      req.write(`${text(to, 'before')}\n`);
      const res = await response;
      expect(res.statusCode).toBe(200);
      const lines: Result[] = [];
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const parts = (tail + c).split('\n');
        tail = parts.pop() ?? '';
        for (const l of parts) lines.push(JSON.parse(l) as Result);
      });
      const ended = new Promise((resolve) => res.once('end', resolve));
      await waitFor(() => lines.length === 1, { what: 'the first line accepted' });
      // Stopped (SIGSTOP): Redis answers nothing, as when it is down or unreachable.
      local.freeze();
      req.end(`${text(to, 'during 1')}\n${text(to, 'during 2')}\n`);
      await ended;
      expect(lines.map((l) => [l.line, l.status])).toEqual([[1, 202], [2, 503], [3, 503]]);
      expect(lines[1]!.error?.code).toBe('unavailable');
    } finally {
      local.thaw();
      await down.close();
    }
  });
});
