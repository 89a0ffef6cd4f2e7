import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRecipient } from '@cbot-relay/messages';
import { LocalRedis, REPO_ROOT, waitFor } from '@cbot-relay/testing';
import { CallbackGate } from './test-kit/callback-gate.js';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';
import { QueueState } from './test-kit/queue-state.js';

const SAMPLES = join(REPO_ROOT, 'packages/messages/src/testdata/samples/outbound');
const read = (dir: string) =>
  readdirSync(join(SAMPLES, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(SAMPLES, dir, f), 'utf8'))] as const);

let h: Harness;
let inbound: QueueState;
beforeAll(async () => {
  h = await startHarness();
  inbound = new QueueState(h.redis.url, h.prefix, 'inbound');
});
afterAll(async () => {
  await inbound.close();
  await h.close();
});

type Rec = { id: string; status: string; cbotMessageId: string | null; attempts: { outcome: string }[]; to: string; type: string };

describe('POST /v1/messages', () => {
  it.each(read('valid'))('accepts %s and it reaches CBOT unchanged', async (_name, body) => {
    const res = await h.send(body);
    expect(res.status).toBe(202);
    const { id, status } = await json<{ id: string; status: string }>(res);
    expect(status).toBe('queued');
    expect(res.headers.get('location')).toBe(`/v1/messages/${id}`);
    const rec = await waitFor(async () => {
      const r = await json<Rec>(await h.get(id));
      return r.cbotMessageId ? r : undefined;
    });
    const got = h.sim.received().find((m) => m.wamid === rec.cbotMessageId);
    expect(got?.body).toEqual(body);
    // The record keeps the recipient as the key it is queued under: no `+`, no surrounding spaces.
    expect(rec).toMatchObject({ to: normalizeRecipient(body.to), type: body.type });
  });

  it.each(read('invalid'))('refuses %s naming the field', async (_name, sample) => {
    const res = await h.send(sample.body);
    expect(res.status).toBe(400);
    const err = (await json<{ error: { code: string; details: { path: string }[] } }>(res)).error;
    expect(err.code).toBe('invalid_message');
    expect(err.details.map((d) => d.path)).toContain(sample.expectFieldInError);
  });

  it('moves sent → delivered → read in that order, one callback at a time, and never back', async () => {
    const to = '905551110000';
    type StatusCallback = { statuses?: { recipient_id?: string; status?: string }[] };
    const statusesOf = (p: unknown) => ((p as StatusCallback | undefined)?.statuses ?? []);
    const gate = await CallbackGate.start(`${h.base}/webhooks/cbot`, (p) => statusesOf(p).some((st) => st.recipient_id === to));
    h.sim.setWebhook(gate.url, { Authorization: BASIC });
    try {
      const { id } = await json<{ id: string }>(await h.send({ to, type: 'text', text: { body: 'status walk' } }));
      // Every status the record showed, in the order it showed them (consecutive repeats folded).
      const seen: string[] = [];
      const observe = async () => {
        const { status } = await json<Rec>(await h.get(id));
        if (seen.at(-1) !== status) seen.push(status);
        return status;
      };
      for (const status of ['sent', 'delivered', 'read']) {
        // CBOT's order: the next status callback is the one we expect, and the record is not past it yet.
        const held = await waitFor(async () => (await observe(), gate.peek()), { what: `the ${status} callback` });
        expect(statusesOf(held).map((st) => st.status)).toEqual([status]);
        expect(await gate.release()).toBe(200);
        await waitFor(async () => (await observe()) === status, { what: `the record to show ${status}` });
      }
      // The relay's order: each callback moved the record one step forward, none was skipped or undone.
      const afterSending = seen.slice(seen.findIndex((st) => st !== 'queued' && st !== 'sending'));
      expect(seen.slice(0, seen.length - afterSending.length).every((st) => st === 'queued' || st === 'sending')).toBe(true);
      expect(afterSending).toEqual(['sent', 'delivered', 'read']);

      // A late redelivery of `delivered` (CBOT retries) is taken and fanned out, and leaves the record at read.
      const delivered = h.sim.callbacks().find((c) => statusesOf(c.payload).some((st) => st.recipient_id === to && st.status === 'delivered'));
      const jobsBefore = await h.callbacksTaken();
      const redelivered = await h.sim.redeliver(delivered!.id);
      await waitFor(() => gate.peek(), { what: 'the redelivered callback' });
      expect(await gate.release()).toBe(200);
      await redelivered.done;
      expect(await h.callbacksTaken()).toBeGreaterThan(jobsBefore); // other messages' callbacks may land too
      await waitFor(async () => (await inbound.pending()) === 0, { what: 'the inbound queue to drain' });
      expect(await observe()).toBe('read');
    } finally {
      h.sim.setWebhook(`${h.base}/webhooks/cbot`, { Authorization: BASIC });
      await gate.close();
    }
  });

  it('sends once for the same Idempotency-Key, also when two requests race', async () => {
    const body = { to: '905551110001', type: 'text', text: { body: 'once' } };
    const headers = { 'idempotency-key': 'order-42-shipped' };
    const [a, b] = await Promise.all([h.send(body, headers), h.send(body, headers)]);
    const c = await h.send(body, headers);
    const ids = await Promise.all([a, b, c].map(async (r) => (expect(r.status).toBe(202), (await json<{ id: string }>(r)).id)));
    expect(new Set(ids).size).toBe(1);
    await waitFor(async () => (await json<Rec>(await h.get(ids[0]!))).status === 'read');
    expect(h.sim.received().filter((m) => m.to === body.to)).toHaveLength(1);
    const conflict = await h.send({ ...body, text: { body: 'other' } }, headers);
    expect(conflict.status).toBe(409);
    expect((await json<{ error: { code: string } }>(conflict)).error.code).toBe('idempotency_conflict');
  });

  it('scopes an Idempotency-Key to the API key: one key under two callers makes two messages', async () => {
    const body = { to: '905551110005', type: 'text', text: { body: 'same key, two callers' } };
    const headers = { 'idempotency-key': 'shared-order-7' };
    const mine = await h.send(body, headers);
    const theirs = await fetch(`${h.base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    const [a, b] = await Promise.all([mine, theirs].map(async (r) => (await json<{ id: string }>(r)).id));
    expect(a).not.toBe(b);
    // Each caller sees its own message, and both reach CBOT.
    expect((await h.get(a!)).status).toBe(200);
    expect((await h.get(b!, OTHER_API_KEY)).status).toBe(200);
    await waitFor(() => h.sim.received().filter((m) => m.to === body.to).length === 2, { what: 'both messages at CBOT' });
  });

  it('treats a re-serialised identical body as the same request', async () => {
    const headers = { 'idempotency-key': 'reordered-keys' };
    const a = await h.send('{"to":"905551110002","type":"text","text":{"body":"x"}}', headers);
    const b = await h.send('{ "type": "text", "text": {"body": "x"}, "to": "905551110002" }', headers);
    expect(b.status).toBe(202);
    expect((await json<{ id: string }>(b)).id).toBe((await json<{ id: string }>(a)).id);
  });

  it('answers the documented errors with the error body', async () => {
    const cases: [RequestInit, number, string][] = [
      [{ headers: { 'content-type': 'application/json' }, body: '{}' }, 401, 'unauthorized'],
      [{ headers: { authorization: 'Bearer wrong-key-000', 'content-type': 'application/json' }, body: '{}' }, 401, 'unauthorized'],
      [{ headers: { authorization: 'Basic abc', 'content-type': 'application/json' }, body: '{}' }, 401, 'unauthorized'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'text/plain' }, body: 'hi' }, 415, 'unsupported_media_type'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}` }, body: '{}' }, 415, 'unsupported_media_type'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' }, body: '{"to":' }, 400, 'invalid_json'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' }, body: '' }, 400, 'invalid_json'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' }, body: '[1,2]' }, 400, 'invalid_message'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' }, body: 'null' }, 400, 'invalid_message'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' }, body: `{"to":"1","type":"text","text":{"body":"${'x'.repeat(70_000)}"}}` }, 413, 'payload_too_large'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json', 'x-relay-expires-in': 'soon' }, body: '{"to":"1","type":"text","text":{"body":"x"}}' }, 400, 'invalid_header'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'x'.repeat(300) }, body: '{"to":"1","type":"text","text":{"body":"x"}}' }, 400, 'invalid_header'],
      [{ headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json', 'x-relay-priority': 'urgent' }, body: '{"to":"1","type":"text","text":{"body":"x"}}' }, 400, 'invalid_header'],
    ];
    for (const [init, status, code] of cases) {
      const res = await fetch(`${h.base}/v1/messages`, { method: 'POST', ...init });
      expect(res.status, `${code} ${String(init.body).slice(0, 40)}`).toBe(status);
      const body = await json<{ error: { code: string; message: string; details: unknown[] } }>(res);
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(Array.isArray(body.error.details)).toBe(true);
    }
    const bad = await fetch(`${h.base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(bad.status).toBe(400);
    expect((await json<{ error: { code: string } }>(bad)).error.code).toBe('invalid_utf8');
  });

  it('shows a message only to the caller that sent it', async () => {
    const { id } = await json<{ id: string }>(await h.send({ to: '905551110003', type: 'text', text: { body: 'mine' } }));
    expect((await h.get(id)).status).toBe(200);
    expect((await h.get(id, OTHER_API_KEY)).status).toBe(404);
    expect((await h.get('msg_nothere')).status).toBe(404);
    expect((await fetch(`${h.base}/v1/messages/${id}`)).status).toBe(401);
  });

  it('never sends a message whose X-Relay-Expires-In passed, and marks it expired', async () => {
    h.sim.setKnobs({ outageUntil: Date.now() + 60_000 });
    try {
      const res = await h.send({ to: '905551110004', type: 'text', text: { body: 'code 123456' } }, { 'x-relay-expires-in': '1' });
      const { id } = await json<{ id: string }>(res);
      const rec = await waitFor(async () => {
        const r = await json<Rec>(await h.get(id));
        return r.status === 'expired' ? r : undefined;
      });
      expect(rec.attempts.some((a) => a.outcome === 'expired')).toBe(true);
    } finally {
      h.sim.setKnobs({ outageUntil: 0 });
    }
    expect(h.sim.received().filter((m) => m.to === '905551110004')).toHaveLength(0);
  });
});

describe('POST /v1/messages off the hot path', () => {
  const headers = { authorization: `Bearer ${OTHER_API_KEY}`, 'content-type': 'application/json' };
  const post = (path: string, body: string | Buffer, extra: Record<string, string> = {}) =>
    fetch(`${h.base}${path}`, { method: 'POST', headers: { ...headers, ...extra }, body });

  it('accepts a gzip-encoded body (express inflates it) and answers errors the same way as the hot path', async () => {
    const body = { to: '905551110010', type: 'text', text: { body: 'zipped' } };
    const res = await post('/v1/messages', gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
    const { id } = await json<{ id: string }>(res);
    const rec = await waitFor(async () => {
      const r = await json<Rec>(await h.get(id, OTHER_API_KEY));
      return r.cbotMessageId ? r : undefined;
    });
    expect(h.sim.received().find((m) => m.wamid === rec.cbotMessageId)?.body).toEqual(body);

    const invalid = JSON.stringify({ to: '905551110010', type: 'text', text: {} });
    const [hot, viaExpress] = await Promise.all([
      post('/v1/messages', invalid),
      post('/v1/messages', gzipSync(invalid), { 'content-encoding': 'gzip' }),
    ]);
    expect([hot.status, viaExpress.status]).toEqual([400, 400]);
    expect(await viaExpress.json()).toEqual(await hot.json());
    for (const r of [hot, viaExpress]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('ignores a query string', async () => {
    const res = await post('/v1/messages?source=crm', JSON.stringify({ to: '905551110011', type: 'text', text: { body: 'q' } }));
    expect(res.status).toBe(202);
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const answer = await new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
      const req = request(`${h.base}/v1/messages`, { method: 'POST', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
      });
      req.on('error', reject);
      // 64 KiB is the limit; no Content-Length, so only counting the bytes can catch it.
      for (let i = 0; i < 20; i++) req.write(`{"pad":"${'x'.repeat(4096)}",`);
      req.end('"to":"1"}');
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('keep-alive'); // the rest of the body was read and dropped
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  /** The ingress's own counters of accepted and refused send requests, from /metrics. */
  async function sendCounters(): Promise<{ accepted: number; refused400: number }> {
    const text = await (await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
    return {
      accepted: sum(/^relay_messages_accepted_total\{[^}]*\} (\d+)$/gm),
      refused400: sum(/^relay_requests_rejected_total\{(?=[^}]*route="\/v1\/messages")(?=[^}]*code="400")[^}]*\} (\d+)$/gm),
    };
  }

  it('survives a client that hangs up halfway through its body, and accepts nothing from it', async () => {
    const before = await sendCounters();
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(h.base).port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OTHER_API_KEY}\r\n` +
            // A whole, valid message, but short of its Content-Length: the request never completed.
            'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"to":"905551110012","type":"text","text":{"body":"half"}}',
          () => socket.destroy(), // once the bytes are on their way, so the relay reads them, then the hang-up
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // Wait until the relay has finished with the request either way, then look at which way.
    const after = await waitFor(async () => {
      const c = await sendCounters();
      return c.accepted > before.accepted || c.refused400 > before.refused400 ? c : undefined;
    }, { what: 'the relay to settle the cut-off request' });
    expect(after).toEqual({ accepted: before.accepted, refused400: before.refused400 + 1 });
    const res = await post('/v1/messages', JSON.stringify({ to: '905551110013', type: 'text', text: { body: 'after' } }));
    expect(res.status).toBe(202);
    await waitFor(() => h.sim.received().some((m) => m.to === '905551110013'), { what: 'the later message at CBOT' });
    expect(h.sim.received().some((m) => m.to === '905551110012')).toBe(false);
  });
});

describe('API_KEY_RATE_LIMIT', () => {
  it('refuses a lone caller over its rate with 429, Retry-After and the RateLimit fields', async () => {
    const limited = await startHarness({ env: { RELAY_ROLES: 'ingress', API_KEY_RATE_LIMIT: '1' }, redis: h.redis });
    try {
      const send = (key: string) =>
        fetch(`${limited.base}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: '905551110020', type: 'text', text: { body: 'rate' } }),
        });
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await send(API_KEY));
      const started = answers.findIndex((r) => r.status === 202);
      expect(started).toBeGreaterThanOrEqual(0);
      const held = answers.find((r) => r.status === 429);
      expect(held).toBeDefined();
      expect(held!.headers.get('retry-after')).toBe('1');
      expect(held!.headers.get('ratelimit-policy')).toBe('"per-api-key";q=1;w=1');
      expect((await json<{ error: { code: string } }>(held!)).error.code).toBe('rate_limited');
      expect((await send(OTHER_API_KEY)).status).toBe(202);
    } finally {
      await limited.close();
    }
  });
});

describe('a Redis that is down fails the accept itself', () => {
  // With the per-key limit off, the accept's own script is the first Redis call a send makes: a failed
  // accept must be a 503 (nothing accepted), never a 202 for a message that was not stored.
  it('answers 503 on the hot path, the express path and each batch item, and 202 again once Redis is back', async () => {
    const redis = await LocalRedis.start();
    const own = await startHarness({
      env: { API_KEY_RATE_LIMIT: '0' },
      redis: { url: redis.url, kind: 'local', close: () => redis.close(), [Symbol.asyncDispose]: () => redis.close() },
    });
    const text = (to: string) => ({ to, type: 'text', text: { body: 'hi' } });
    try {
      expect((await own.send(text('905556670001'))).status).toBe(202);
      await redis.kill();
      const hot = await own.send(text('905556670002'));
      expect(hot.status).toBe(503);
      expect((await json<{ error: { code: string } }>(hot)).error.code).toBe('unavailable');
      const gz = await fetch(`${own.base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify(text('905556670003'))),
      });
      expect(gz.status).toBe(503);
      const batch = await fetch(`${own.base}/v1/messages/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [text('905556670004'), text('905556670005')] }),
      });
      expect(batch.status).toBe(503);
      await redis.restart();
      await waitFor(async () => (await own.send(text('905556670006'))).status === 202);
    } finally {
      await own.close();
      await redis.close();
    }
  });
});

describe('operations', () => {
  it('answers health, readiness and metrics', async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    // No PUBLIC_WEBHOOK_URL here: the relay registers nothing and says so.
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: true, webhook: 'not configured' } });
    // On PORT /metrics needs an admin key; OPS_PORT serves it (and the probes) to anyone who can reach it.
    expect((await fetch(`${h.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(401);
    const onPort = await h.admin('/metrics');
    expect(onPort.status).toBe(200);
    expect(await onPort.text()).toContain('relay_messages_accepted_total');
    const ops = `http://127.0.0.1:${h.relay.opsPort}`;
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toContain('relay_messages_accepted_total');
    expect(metrics).toMatch(/relay_messages_sent_total \d+/);
    expect(metrics).not.toContain('relay_webhook_registered');
    expect(metrics).toMatch(/relay_outbound_backlog \d+/);
    expect(metrics).toMatch(/relay_accept_to_sent_seconds_count [1-9]/);
    expect(metrics).toMatch(/relay_cbot_send_seconds_count [1-9]/);
  });

  it('sets security headers and a request id', async () => {
    const res = await fetch(`${h.base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});
