import { createHmac } from 'node:crypto';
import { Agent } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { RelayProcess, freePort, startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { RawConnection } from './raw-http.js';
import { pool, rawConnect, sample, send } from './raw-http.js';

/**
 * Each attack of issue 14, from outside: a relay process (every role, the production heap flags) on
 * real sockets, its own Redis and the CBOT simulator. Limits are shortened so the suite is fast.
 */
const API_KEY = 'sec-api-key-123456';
const ADMIN_KEY = 'sec-admin-key-123456';
const CBOT_KEY = 'sec-cbot-key';
const APP_SECRET = 'sec-app-secret';
const BASIC = `Basic ${Buffer.from('cbot:hook-pass-123').toString('base64')}`;
const CAP = 48;
const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 3_000;
const BODY_IDLE_MS = 500;
const BODY_BUDGET = 4 * 1024 * 1024;

let redis: TestRedis;
let sim: CbotSim;
let relay: RelayProcess;
let port: number;
let opsPort: number;
const agents: Agent[] = [];
const sockets: RawConnection[] = [];

/** A keep-alive client whose sockets are closed after each test (the connection cap counts them). */
function client(maxSockets = 8): Agent {
  const a = new Agent({ keepAlive: true, maxSockets });
  agents.push(a);
  return a;
}

async function connectRaw(): Promise<RawConnection> {
  const c = await rawConnect(port);
  sockets.push(c);
  return c;
}

const opsMetrics = async () => (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
const json = [['Content-Type', 'application/json']] as [string, string][];
const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
const text = (to: string, body = 'hi') => JSON.stringify({ to, type: 'text', text: { body } });

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startCbotSim({ apiKey: CBOT_KEY, knobs: { statusCallbacks: false } });
  [port, opsPort] = [await freePort(), await freePort()];
  relay = await RelayProcess.start({
    env: {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniquePrefix('sec'),
      HOST: '127.0.0.1',
      PORT: String(port),
      OPS_PORT: String(opsPort),
      RELAY_API_KEYS: `crm:${API_KEY}`,
      RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`,
      CBOT_BASE_URL: sim.url,
      CBOT_API_KEY: CBOT_KEY,
      CBOT_WEBHOOK_USER: 'cbot',
      CBOT_WEBHOOK_PASS: 'hook-pass-123',
      CBOT_APP_SECRET: APP_SECRET,
      CBOT_RATE_LIMIT: '100000',
      DISPATCH_LANES: '4',
      API_KEY_RATE_LIMIT: '0',
      INGRESS_MAX_CONNECTIONS: String(CAP),
      INGRESS_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      INGRESS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      INGRESS_BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_MS),
      INGRESS_BODY_BUFFER_BYTES: String(BODY_BUDGET),
      // As the image runs it: a leak that would kill a deployed process kills this one.
      NODE_OPTIONS: '--max-old-space-size=96 --max-semi-space-size=8',
    },
  });
});

afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  for (const c of sockets.splice(0)) c.socket.destroy();
});

afterAll(async () => {
  await relay?.stop('SIGKILL');
  await sim?.close();
  await redis?.close();
});

describe('unique-path flood', () => {
  it('keeps /metrics and the heap flat under 3,500 distinct 8 KB unmatched paths', async () => {
    const agent = client(16);
    const before = await opsMetrics();
    const heapBefore = sample(before, 'nodejs_heap_size_used_bytes');
    await pool(3_500, 16, async (i) => {
      const junk = `${i}-${'x'.repeat(8_192)}`;
      const res = i % 2 === 0 ? await send(agent, port, 'GET', `/v1/dead-letters/${junk}`) : await send(agent, port, 'GET', `/v1/messages/%zz${junk}`);
      expect(res.status).toBe(i % 2 === 0 ? 401 : 400);
    });
    const after = await opsMetrics();
    // Two series, each counted 1,750 times, instead of 3,500 labels of 8 KB each (28+ MB of text).
    expect(sample(after, 'relay_requests_rejected_total{route="/v1/dead-letters/*",code="401"}')).toBe(1_750);
    expect(sample(after, 'relay_requests_rejected_total{route="unmatched",code="400"}')).toBe(1_750);
    expect(after.length - before.length).toBeLessThan(4_096);
    // Garbage from the requests is collected as the process keeps working; what is left must be small.
    await vi.waitFor(
      async () => {
        await send(agent, port, 'GET', '/healthz');
        const heapNow = sample(await opsMetrics(), 'nodejs_heap_size_used_bytes');
        expect(heapNow - heapBefore).toBeLessThan(16 * 1024 * 1024);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});

describe('callbacks refused before the body is read', () => {
  /** Declares a ~1 MB callback, sends 1 KB of it, and holds the rest. */
  async function holdBody(headers: string): Promise<RawConnection> {
    const c = await connectRaw();
    await c.write(
      `POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n${headers}\r\n` +
        `{"messages":[${' '.repeat(1_000)}`,
    );
    return c;
  }

  it.each([
    ['no credentials', ''],
    ['a malformed signature', 'X-Hub-Signature-256: sha256=zz\r\n'],
    ['a malformed signature and correct Basic', `X-Hub-Signature-256: sha256=${'a'.repeat(63)}\r\nAuthorization: ${BASIC}\r\n`],
    ['an empty signature', 'X-Hub-Signature-256: \r\n'],
    ['wrong Basic and no signature', `Authorization: Basic ${Buffer.from('cbot:nope').toString('base64')}\r\n`],
  ])('answers 401 to %s with most of the body unsent, and closes', async (_name, headers) => {
    const c = await holdBody(headers);
    await vi.waitFor(() => expect(c.status()).toBe(401), { timeout: 5_000 });
    expect(c.received()).toMatch(/\r\nconnection: close\r\n/i);
    await c.closed;
  });

  it('refuses 40 such connections at once, each before its body', async () => {
    const conns = await Promise.all(Array.from({ length: 40 }, () => holdBody('X-Hub-Signature-256: sha256=not-hex\r\n')));
    await Promise.all(conns.map((c) => c.closed));
    expect(conns.map((c) => c.status())).toEqual(conns.map(() => 401));
  });

  it('holds at most INGRESS_BODY_BUFFER_BYTES of signed-looking bodies; past it, 503 busy', async () => {
    // A well-formed signature must be read before it can be checked: that is what the budget bounds.
    const conns = await Promise.all(Array.from({ length: 8 }, () => holdBody(`X-Hub-Signature-256: sha256=${'ab'.repeat(32)}\r\n`)));
    for (const c of conns) await c.write(' '.repeat(700_000)).catch(() => undefined);
    // 8 × 701 KB against 4 MiB: at most 5 fit.
    await vi.waitFor(() => expect(conns.filter((c) => c.status() === 503).length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    const busy = conns.find((c) => c.status() === 503)!;
    expect(busy.received()).toMatch(/\r\nretry-after: 1\r\n/i);
    await Promise.all(conns.map((c) => c.closed));
    expect((await send(client(), port, 'POST', '/webhooks/cbot', [...json, ['Authorization', BASIC]], '{"messages":[]}')).status).toBe(200);
  });

  it('takes a callback with an empty signature and correct Basic (the header counts as absent)', async () => {
    const res = await send(client(), port, 'POST', '/webhooks/cbot', [...json, ['X-Hub-Signature-256', ''], ['Authorization', BASIC]], '{"messages":[]}');
    expect(res.status).toBe(200);
  });

  it('reads the body of a well-formed signature, then checks its HMAC', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const good = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
    expect((await send(client(), port, 'POST', '/webhooks/cbot', [...json, ['X-Hub-Signature-256', good]], body)).status).toBe(200);
    expect((await send(client(), port, 'POST', '/webhooks/cbot', [...json, ['X-Hub-Signature-256', `sha256=${'0'.repeat(64)}`]], body)).status).toBe(401);
  });
});

describe('connection cap', () => {
  /** Opens a connection and asks for /healthz: 'served', or 'refused' when it is closed unanswered. */
  async function probe(): Promise<{ outcome: 'served' | 'refused'; c: RawConnection }> {
    const c = await connectRaw();
    await c.write('GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n').catch(() => undefined);
    const served = new Promise<'served'>((resolve) => {
      const check = () => (c.status() === 200 ? resolve('served') : undefined);
      c.socket.on('data', check);
      check();
    });
    const ended = c.closed.then((): 'served' | 'refused' => (c.status() === 200 ? 'served' : 'refused'));
    const outcome = await Promise.race([served, ended]);
    return { outcome, c };
  }

  it(`holds at most INGRESS_MAX_CONNECTIONS (${CAP}) and takes new ones as others close`, async () => {
    const held: RawConnection[] = [];
    let refused = 0;
    for (let i = 0; i < CAP + 5; i++) {
      const { outcome, c } = await probe();
      if (outcome === 'served') held.push(c);
      else refused++;
    }
    // Idle keep-alive connections stay open (65 s), so every one served still counts.
    expect(held.length).toBeLessThanOrEqual(CAP);
    expect(held.length).toBeGreaterThan(CAP - 3);
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(sample(await opsMetrics(), 'relay_ingress_connections_dropped_total')).toBeGreaterThanOrEqual(refused);
    held.pop()!.socket.destroy();
    held.pop()!.socket.destroy();
    await vi.waitFor(async () => expect((await probe()).outcome).toBe('served'), { timeout: 5_000, interval: 50 });
  });
});

describe('slow clients', () => {
  const bound = (ms: number) => ms + 2_000; // Node checks the timeouts every ≤ 1 s; the rest is scheduling slack

  it('cuts a client that never finishes its headers', async () => {
    const c = await connectRaw();
    const started = Date.now();
    await c.write('POST /v1/messages HTTP/1.1\r\nHost: relay\r\n');
    await c.closed;
    expect(Date.now() - started).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
    expect(c.status() ?? 408).toBe(408);
  });

  it('cuts a body that stalls, with 408', async () => {
    const c = await connectRaw();
    const started = Date.now();
    await c.write(`POST /v1/messages HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"to":`);
    await c.closed;
    // Well before the request timeout would have cut it.
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS - 1_000);
    expect(c.status()).toBe(408);
  });

  it('cuts a body that trickles faster than the idle timeout, at the request timeout', async () => {
    const c = await connectRaw();
    const started = Date.now();
    await c.write(`POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nAuthorization: ${BASIC}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      if (c.socket.destroyed) return;
      sent++;
      c.socket.write(' ');
    }, 50);
    await c.closed;
    clearInterval(drip);
    expect(sent).toBeLessThan(10_000);
    expect(Date.now() - started).toBeLessThan(bound(REQUEST_TIMEOUT_MS));
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  });

  it('lets go of 500 slow clients at once, and then serves as before', async () => {
    const conns = await Promise.all(
      Array.from({ length: 500 }, async () => {
        const c = await connectRaw();
        await c.write('POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Le').catch(() => undefined);
        return c;
      }),
    );
    const started = Date.now();
    await Promise.all(conns.map((c) => c.closed));
    expect(Date.now() - started).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
    expect((await send(client(), port, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('JSON that could be read two ways', () => {
  it.each([
    ['{"to":"905550000001","type":"text","text":{"body":"a","body":"b"}}', 'text.body', 'duplicate key'],
    ['{"to":"905550000001","to":"905550000002","type":"text","text":{"body":"a"}}', 'to', 'duplicate key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"\\u0074o":"905550000002"}', 'to', 'duplicate key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"__proto__":{"to":"905550000002"}}', '__proto__', 'reserved key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a","constructor":{"prototype":{}}}}', 'text.constructor', 'reserved key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"x":[1,{"prototype":1}]}', 'x.1.prototype', 'reserved key'],
  ])('refuses %s with 400 naming %s', async (body, path, message) => {
    const res = await send(client(), port, 'POST', '/v1/messages', [...json, bearer(API_KEY)], body);
    expect(res.status).toBe(400);
    const err = (JSON.parse(res.body) as { error: { code: string; details: unknown[] } }).error;
    expect(err.code).toBe('invalid_json');
    expect(err.details).toEqual([{ path, message }]);
  });

  it('sends nothing of them to CBOT, while a clean message right after goes through', async () => {
    const res = await send(client(), port, 'POST', '/v1/messages', [...json, bearer(API_KEY)], text('905550000009', 'clean'));
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(sim.received().map((m) => m.to)).toContain('905550000009'), { timeout: 10_000 });
    expect(sim.received().filter((m) => m.to.startsWith('90555000000') && m.to !== '905550000009')).toEqual([]);
  });

  it('keeps a callback with a duplicate or reserved key (refusing it would lose it once CBOT stops retrying)', async () => {
    const body = '{"messages":[],"statuses":[],"statuses":[],"__proto__":{"polluted":true}}';
    const res = await send(client(), port, 'POST', '/webhooks/cbot', [...json, ['Authorization', BASIC]], body);
    expect(res.status).toBe(200);
    expect((await send(client(), port, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('repeated Authorization', () => {
  it.each([
    ['POST', '/v1/messages', [bearer(API_KEY), bearer('someone-elses-key')]],
    ['POST', '/v1/messages', [bearer('someone-elses-key'), bearer(API_KEY)]],
    ['POST', '/webhooks/cbot', [['Authorization', BASIC], ['authorization', BASIC]]],
    ['GET', '/v1/dead-letters', [bearer(ADMIN_KEY), bearer(ADMIN_KEY)]],
    ['GET', '/metrics', [bearer(ADMIN_KEY), bearer(API_KEY)]],
  ] as [string, string, [string, string][]][])('%s %s is 400', async (method, path, auth) => {
    const res = await send(client(), port, method, path, [...json, ...auth], method === 'POST' ? text('905550000010') : undefined);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('invalid_header');
  });
});

describe('/metrics', () => {
  it('needs an admin key on PORT, where the probes stay open; OPS_PORT serves all three', async () => {
    const a = client();
    expect((await send(a, port, 'GET', '/metrics')).status).toBe(401);
    expect((await send(a, port, 'GET', '/metrics', [bearer(API_KEY)])).status).toBe(401);
    const admin = await send(a, port, 'GET', '/metrics', [bearer(ADMIN_KEY)]);
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('relay_requests_rejected_total');
    expect((await send(a, port, 'GET', '/healthz')).status).toBe(200);
    expect((await send(a, port, 'GET', '/readyz')).status).toBe(200);
    expect(await opsMetrics()).toContain('relay_requests_rejected_total');
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);
  });
});
