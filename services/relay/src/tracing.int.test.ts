import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { RelayProcess, freePort, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { API_KEY, BASIC, CBOT_KEY } from './test-kit/harness.js';

/** One exported span as OTLP/HTTP JSON carries it, with its process's resource attributes. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
const flatten = (kvs: { key: string; value: AnyValue }[] | undefined) =>
  Object.fromEntries((kvs ?? []).map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]));

/** A tiny OTLP/HTTP receiver: keeps every span POSTed to /v1/traces in memory. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) {
        const body = JSON.parse(raw.toString()) as {
          resourceSpans: { resource: { attributes: { key: string; value: AnyValue }[] }; scopeSpans: { spans: (Omit<ExportedSpan, 'attributes' | 'resource'> & { attributes?: { key: string; value: AnyValue }[] })[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          const resource = flatten(rs.resource.attributes);
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, attributes: flatten(s.attributes), resource });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** An HTTP subscriber that answers 200 and keeps each push's headers. */
async function startSubscriber(): Promise<{ url: string; pushes: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const pushes: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      pushes.push(req.headers);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    pushes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let redis: TestRedis;
let sim: CbotSim;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let subscriber: Awaited<ReturnType<typeof startSubscriber>>;
let ingress: RelayProcess;
let workers: RelayProcess;
let base: string;
let dir: string;

beforeAll(async () => {
  [redis, sim, otlp, subscriber] = await Promise.all([
    startTestRedis(),
    startCbotSim({ apiKey: CBOT_KEY, knobs: { statusCallbacks: false } }),
    startOtlpReceiver(),
    startSubscriber(),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'tracing-'));
  const subscriptions = join(dir, 'subscriptions.json');
  writeFileSync(subscriptions, JSON.stringify({ subscribers: [{ name: 'hook', kind: 'http', url: subscriber.url, secret: `whsec_${randomBytes(24).toString('base64')}`, types: ['*'] }] }));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: uniquePrefix('trace'),
    RELAY_API_KEYS: `crm:${API_KEY}`,
    CBOT_BASE_URL: sim.url,
    CBOT_API_KEY: CBOT_KEY,
    CBOT_WEBHOOK_USER: 'cbot-relay',
    CBOT_WEBHOOK_PASS: 's3cr3t-pass',
    SUBSCRIPTIONS_FILE: subscriptions,
    DISPATCH_BACKOFF_BASE_MS: '20',
    DISPATCH_BACKOFF_MAX_MS: '200',
    CBOT_RATE_LIMIT: '100000',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Spans leave within 100 ms instead of the SDK's 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  // The roles as compose runs them: the ingress alone, the workers in another process.
  [ingress, workers] = await Promise.all([
    RelayProcess.start({ env: { ...env, RELAY_ROLES: 'ingress', PORT: String(port) } }),
    RelayProcess.start({ env: { ...env, RELAY_ROLES: 'dispatcher,fanout' } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([ingress?.stop('SIGTERM'), workers?.stop('SIGTERM')]);
  await Promise.allSettled([sim?.close(), otlp?.close(), subscriber?.close(), redis?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const inTrace = (traceId: string) => otlp.spans.filter((s) => s.traceId === traceId);
const one = (spans: ExportedSpan[], pred: (s: ExportedSpan) => boolean, what: string): ExportedSpan => {
  const found = spans.filter(pred);
  expect(found, what).toHaveLength(1);
  return found[0]!;
};
const roles = (s: ExportedSpan) => s.resource['cbot_relay.roles'];

describe('tracing across the ingress and worker processes', () => {
  it('follows a send from the HTTP request to each CBOT call, and the message log lines carry the trace', async () => {
    // The caller's own trace: the relay continues it.
    const traceId = hex(16);
    const callerSpan = hex(8);
    sim.failNext(500, 1);
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ to: '905551110001', type: 'text', text: { body: 'traced' } }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    // Two attempts: CBOT answers 500 once, then takes it.
    const sends = await waitFor(() => {
      const s = inTrace(traceId).filter((x) => x.name === 'cbot send');
      return s.length === 2 && s;
    }, { what: 'two CBOT send spans' });
    const request = one(inTrace(traceId), (s) => s.kind === SERVER, 'the request span');
    expect(request).toMatchObject({ name: 'POST /v1/messages', parentSpanId: callerSpan });
    expect(request.attributes).toMatchObject({ 'cbot_relay.message_id': id, 'http.response.status_code': 202 });
    expect(roles(request)).toBe('ingress');
    for (const send of sends) {
      expect(send.kind).toBe(CLIENT);
      expect(send.parentSpanId).toBe(request.spanId);
      expect(roles(send)).toBe('dispatcher,fanout');
      expect(send.attributes['cbot_relay.message_id']).toBe(id);
    }
    expect(sends.map((s) => s.attributes['cbot_relay.outcome']).sort()).toEqual(['retryable', 'sent']);

    // The dispatcher's line about the retry names the message and the trace of its attempt.
    const retryLine = workers.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'send failed; will retry' && l.relayId === id);
    const failedSend = sends.find((s) => s.attributes['cbot_relay.outcome'] === 'retryable')!;
    expect(retryLine).toMatchObject({ trace_id: traceId, span_id: failedSend.spanId });
  });

  it('follows a callback through fanout to the subscriber push, and sends traceparent to the subscriber', async () => {
    const traceId = hex(16);
    const cbotSpan = hex(8);
    const callback = { contacts: [{ wa_id: '905551110002', profile: { name: 'A' } }], messages: [{ id: `wamid.${hex(8)}`, from: '905551110002', timestamp: '1700000000', type: 'text', text: { body: 'hi' } }] };
    const res = await fetch(`${base}/webhooks/cbot`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json', traceparent: `00-${traceId}-${cbotSpan}-01` },
      body: JSON.stringify(callback),
    });
    expect(res.status).toBe(200);

    // Every step's span, each exported when it ends (the push's before its job's).
    const steps = ['POST /webhooks/cbot', 'process inbound', 'add push.hook', 'process push.hook', 'subscriber push'];
    const spans = await waitFor(() => {
      const s = inTrace(traceId);
      return steps.every((step) => s.some((x) => x.name.startsWith(step))) && s;
    }, { what: 'a span of every step' });
    const push = one(spans, (s) => s.name === 'subscriber push', 'the push span');
    const request = one(spans, (s) => s.kind === SERVER, 'the callback span');
    expect(request).toMatchObject({ name: 'POST /webhooks/cbot', parentSpanId: cbotSpan });
    expect(roles(request)).toBe('ingress');
    // ingress → [inbound] → fanout → [push.hook] → push, each step the child of the one before.
    const fanout = one(spans, (s) => s.name === 'process inbound', 'the fanout span');
    expect(fanout).toMatchObject({ kind: CONSUMER, parentSpanId: request.spanId });
    expect(roles(fanout)).toBe('dispatcher,fanout');
    const added = one(spans, (s) => s.kind === PRODUCER && s.name.startsWith('add push.hook'), 'the add span');
    expect(added.parentSpanId).toBe(fanout.spanId);
    const delivered = one(spans, (s) => s.name === 'process push.hook', 'the push job span');
    expect(delivered).toMatchObject({ kind: CONSUMER, parentSpanId: added.spanId });
    expect(push).toMatchObject({ kind: CLIENT, parentSpanId: delivered.spanId });
    expect(push.attributes).toMatchObject({ 'cbot_relay.subscriber': 'hook', 'http.response.status_code': 200 });

    // The subscriber can continue the trace: the push carried the push span's context.
    const headers = subscriber.pushes.find((h) => String(h.traceparent).includes(traceId));
    expect(headers?.traceparent).toBe(`00-${traceId}-${push.spanId}-01`);
  });

  it('records no BullMQ housekeeping (polls, stalled checks, lock renewals) as spans', () => {
    const names = new Set(otlp.spans.map((s) => s.name.split(' ')[0]));
    for (const noisy of ['getNextJob', 'moveStalledJobsToWait', 'extendLocks', 'startStalledCheckTimer']) expect(names.has(noisy)).toBe(false);
  });
});
