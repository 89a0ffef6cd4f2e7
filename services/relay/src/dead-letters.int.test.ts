import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { REPO_ROOT, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';

const ADMIN_KEY = 'admin-key-123456';
const sample = (name: string) => readFileSync(join(REPO_ROOT, 'packages/messages/src/testdata/samples/inbound', `${name}.json`));

/** An HTTP subscriber that answers 500 until `ok` is set, and records every push. */
class Subscriber {
  ok = false;
  readonly pushes: { id: string; status: number }[] = [];
  readonly server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = this.ok ? 200 : 500;
      this.pushes.push({ id: String(req.headers['webhook-id']), status });
      res.writeHead(status).end();
    });
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  delivered(): string[] {
    return this.pushes.filter((p) => p.status === 200).map((p) => p.id);
  }
}

let redis: TestRedis;
let dir: string;
const subscriber = new Subscriber();
let ingress: Relay;
let fanout: Relay;
let base: string;

async function relay(roles: string, env: Record<string, string>): Promise<Relay> {
  const config = loadConfig({ RELAY_ROLES: roles, PORT: '0', OPS_PORT: 'off', RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`, ...env });
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return startRelay({ config, redisUrl: redis.url, log, metrics: createMetrics(), host: '127.0.0.1' });
}

const admin = (path: string, method = 'GET', body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

interface Listed {
  items: { kind: string; id: string; subscriber?: string; event?: { id: string } }[];
}
const eventDeadLetters = async () => ((await (await admin('/v1/dead-letters')).json()) as Listed).items.filter((i) => i.kind === 'event');

beforeAll(async () => {
  redis = await startTestRedis();
  await new Promise<void>((resolve) => subscriber.server.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'dead-letters-'));
  const file = join(dir, 'subscriptions.json');
  writeFileSync(file, JSON.stringify({ subscribers: [{ name: 'crm', kind: 'http', url: subscriber.url, secret: 'a-secret-of-16-chars+' }] }));
  const env = { QUEUE_PREFIX: uniquePrefix('dl'), SUBSCRIPTIONS_FILE: file, PUSH_MAX_ATTEMPTS: '1' };
  // Two relays on one Redis: neither process runs both roles.
  ingress = await relay('ingress', env);
  fanout = await relay('fanout', env);
  base = `http://127.0.0.1:${ingress.port}`;
});

afterAll(async () => {
  await ingress?.close();
  await fanout?.close();
  await new Promise((resolve) => subscriber.server.close(resolve));
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

const callback = async (name: string) => {
  const res = await fetch(`${base}/webhooks/cbot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sample(name) });
  expect(res.status).toBe(200);
};

describe('event dead letters through an ingress that runs no fanout', () => {
  it('lists a failed push, replays it once with the same webhook-id, and refuses a second replay', async () => {
    await callback('t01-text');
    await waitFor(async () => (await eventDeadLetters()).length === 1, { what: 'the failed push listed by the ingress' });
    const [dl] = await eventDeadLetters();
    expect(dl).toMatchObject({ kind: 'event', subscriber: 'crm' });
    expect(dl!.id).toBe(`${dl!.event!.id}.crm`);
    expect(subscriber.pushes).toEqual([{ id: dl!.event!.id, status: 500 }]);

    subscriber.ok = true;
    const replay = await admin(`/v1/dead-letters/${dl!.id}/replay`, 'POST');
    expect(replay.status).toBe(202);
    // Repeated before or after the delivery: refused, never a second delivery.
    expect((await admin(`/v1/dead-letters/${dl!.id}/replay`, 'POST')).status).toBe(409);
    await waitFor(() => subscriber.delivered().length === 1, { what: 'the replayed push delivered' });
    expect(subscriber.delivered()).toEqual([dl!.event!.id]);
    await waitFor(async () => (await admin(`/v1/dead-letters/${dl!.id}/replay`, 'POST')).status === 409, { what: 'replay refused once delivered' });
    expect(await eventDeadLetters()).toEqual([]);
    expect((await admin(`/v1/dead-letters/evt_${'0'.repeat(32)}.crm/replay`, 'POST')).status).toBe(404);
    expect((await admin(`/v1/dead-letters/${dl!.event!.id}.nosuch/replay`, 'POST')).status).toBe(404);
    expect(subscriber.delivered()).toHaveLength(1);
  });

  it('replays many: only what failed since the given time, counted, and safe to repeat', async () => {
    subscriber.ok = false;
    const before = subscriber.pushes.length;
    await callback('t12-status-sent');
    await callback('t13-status-delivered');
    await waitFor(async () => (await eventDeadLetters()).length === 2, { what: 'two failed pushes' });
    const failed = subscriber.pushes.slice(before).map((p) => p.id);

    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await admin('/v1/dead-letters/replay', 'POST', { kind: 'event', since: future });
    expect(await none.json()).toEqual({ replayed: 0, skipped: 0, more: false });
    expect((await admin('/v1/dead-letters/replay', 'POST', { kind: 'bogus' })).status).toBe(400);
    expect((await admin('/v1/dead-letters/replay', 'POST', { kind: 'event', since: 'yesterday' })).status).toBe(400);
    expect((await fetch(`${base}/v1/dead-letters/replay`, { method: 'POST' })).status).toBe(401);

    subscriber.ok = true;
    const all = await admin('/v1/dead-letters/replay', 'POST', { kind: 'all', since: new Date(Date.now() - 60_000).toISOString() });
    expect(await all.json()).toEqual({ replayed: 2, skipped: 0, more: false });
    const again = await admin('/v1/dead-letters/replay', 'POST', { kind: 'event' });
    expect(await again.json()).toEqual({ replayed: 0, skipped: 0, more: false });
    await waitFor(() => subscriber.delivered().length === 3, { what: 'both replayed pushes delivered' });
    expect(subscriber.delivered().slice(1).sort()).toEqual([...failed].sort());
  });

  it('delivers once more however many replays race, one by one or in bulk', async () => {
    subscriber.ok = false;
    const before = subscriber.pushes.length;
    await callback('t14-status-read');
    await callback('t15-status-failed-470');
    await waitFor(async () => (await eventDeadLetters()).length === 2, { what: 'two failed pushes' });
    const [one, two] = await eventDeadLetters();
    subscriber.ok = true;
    const singles = await Promise.all(Array.from({ length: 8 }, () => admin(`/v1/dead-letters/${one!.id}/replay`, 'POST')));
    expect(singles.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
    const bulk = await Promise.all(Array.from({ length: 4 }, () => admin('/v1/dead-letters/replay', 'POST', { kind: 'event' })));
    const counts = (await Promise.all(bulk.map((r) => r.json()))) as { replayed: number; skipped: number }[];
    expect(counts.reduce((n, c) => n + c.replayed, 0)).toBe(1);
    await waitFor(() => subscriber.pushes.slice(before).filter((p) => p.status === 200).length === 2, { what: 'both delivered' });
    // Both jobs settled (none failed, a replay refused): BullMQ holds one job per event id, so no second delivery is pending.
    await waitFor(async () => (await eventDeadLetters()).length === 0 && (await admin(`/v1/dead-letters/${two!.id}/replay`, 'POST')).status === 409, {
      what: 'both settled',
    });
    const delivered = subscriber.pushes.slice(before).filter((p) => p.status === 200).map((p) => p.id);
    expect(delivered.sort()).toEqual([one!.event!.id, two!.event!.id].sort());
  });
});
