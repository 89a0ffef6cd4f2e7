import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { startRelay } from '@cbot-relay/relay';
import type { Relay } from '@cbot-relay/relay';
import { REPO_ROOT, freePort, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { runCli as runCliInProcess } from './program.js';

const API_KEY = 'cli-test-key-1234';
const ADMIN_KEY = 'cli-admin-key-1234';
const SIM_KEY = 'sim-key-cli';
const sample = (name: string) => readFileSync(join(REPO_ROOT, 'packages/messages/src/testdata/samples/inbound', `${name}.json`));

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI as a real process, from the TypeScript sources (as `pnpm cbot-relay`) or the compiled dist (as the image). */
function runCli(args: string[], env: Record<string, string>, from: 'source' | 'dist' = 'source'): Promise<Run> {
  const entry = from === 'source' ? ['--conditions=@cbot-relay/source', '--import', 'tsx', 'services/cli/src/main.ts'] : ['services/cli/dist/main.js'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * The same entry (`runCli`, what main.ts calls) in this process, with captured streams: for the many
 * argument variants, where a process per case would only add start-up time.
 */
async function inProcess(args: string[], e: Record<string, string>): Promise<Run> {
  let out = '';
  let err = '';
  const stream = (add: (s: string) => void) => new Writable({ write: (chunk: Buffer, _enc, cb) => (add(chunk.toString()), cb()) });
  const code = await runCliInProcess(args, e, { stdout: stream((s) => (out += s)), stderr: stream((s) => (err += s)), now: Date.now });
  return { code, out, err };
}

const json = <T>(r: Run): T => {
  expect(r.err).toBe('');
  return JSON.parse(r.out) as T;
};

/** An HTTP subscriber that answers 500 until `ok` is set. */
const hook = { ok: false, delivered: [] as string[] };
const hookServer: Server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (hook.ok) hook.delivered.push(String(req.headers['webhook-id']));
    res.writeHead(hook.ok ? 200 : 500).end();
  });
});

let redis: TestRedis;
let sim: CbotSim;
let relay: Relay;
let dir: string;
let env: Record<string, string>;
let base: string;

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startCbotSim({ apiKey: SIM_KEY, knobs: { statusCallbacks: false } });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const subscriptions = join(dir, 'subscriptions.json');
  writeFileSync(
    subscriptions,
    JSON.stringify({
      subscribers: [
        { name: 'crm', kind: 'http', url: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`, secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' },
        { name: 'audit', kind: 'queue', types: ['message.received'] },
      ],
    }),
  );
  env = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: uniquePrefix('cli'),
    SUBSCRIPTIONS_FILE: subscriptions,
    CBOT_BASE_URL: sim.url,
    CBOT_API_KEY: SIM_KEY,
  };
  // The relay splits the outbound side into three partitions; the CLI is not told and reads the count
  // from Redis, so every command below finds records, dead letters and lists across partitions.
  const config = loadConfig({ ...env, OUTBOUND_PARTITIONS: '3', RELAY_API_KEYS: `app:${API_KEY}`, RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`, PORT: '0', OPS_PORT: 'off', PUSH_MAX_ATTEMPTS: '1' });
  relay = await startRelay({ config, redisUrl: redis.url, log: createLogger({ level: 'silent' }), metrics: createMetrics(), host: '127.0.0.1' });
  base = `http://127.0.0.1:${relay.port}`;
});

afterAll(async () => {
  await relay?.close();
  await sim?.close();
  await new Promise((resolve) => hookServer.close(resolve));
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(text: string): Promise<string> {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '905551112233', type: 'text', text: { body: text } }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const apiView = async (id: string) => (await fetch(`${base}/v1/messages/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
const sentWith = (text: string) => sim.received().filter((m) => (m.body.text as { body?: string } | undefined)?.body === text).length;

interface Item {
  kind: 'message' | 'event';
  id: string;
  status?: string;
  subscriber?: string;
}

// Each spawned CLI starts Node (and tsx) afresh: seconds apiece on a loaded 2-core machine.
describe('cbot-relay CLI', { timeout: 240_000 }, () => {
  it('answers usage errors with exit 2 and a message on stderr, --help with 0', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes');
    const spawned = await runCli(['dead-letters', 'list', '--limit', 'lots'], env);
    expect(spawned.code).toBe(2);
    expect(spawned.err).toContain("option '--limit <n>' argument 'lots' is invalid");
    for (const args of [
      [],
      ['nonsense'],
      ['dead-letters'],
      ['dead-letters', 'list', '--limit', 'lots'],
      ['dead-letters', 'list', '--kind', 'bogus'],
      ['dead-letters', 'list', '--since', 'yesterday'],
      ['dead-letters', 'replay'],
      ['dead-letters', 'replay', 'msg_x', '--all'],
      ['dead-letters', 'replay', 'msg_x', '--since', '1h'],
      ['messages', 'get'],
    ]) {
      const r = await inProcess(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).not.toBe('');
      expect(r.out).toBe('');
    }
    const badConfig = await inProcess(['queues', 'stats'], { ...env, REDIS_CLUSTER: '1', QUEUE_PREFIX: 'untagged' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toContain('invalid configuration: QUEUE_PREFIX');
  });

  it('exits 4 when Redis cannot be reached, naming it without its password', async () => {
    const port = await freePort();
    const r = await runCli(['messages', 'get', 'msg_000000000aaaaaaaaaaaaaaaa'], { ...env, REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` });
    expect(r.code).toBe(4);
    expect(r.err).toContain(`cannot reach Redis at 127.0.0.1:${port}`);
    expect(r.err).not.toContain('hunter2');
  });

  it('messages get: the record as the API shows it, exit 3 for an unknown id', async () => {
    const id = await send('cli get');
    await waitFor(async () => ((await apiView(id)) as { status: string }).status === 'sent', { what: 'message sent' });
    const got = await runCli(['messages', 'get', id, '--json'], env);
    expect(got.code).toBe(0);
    expect(json(got)).toEqual(await apiView(id));
    const human = await inProcess(['messages', 'get', id], env);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/status:\s+sent/);
    const missing = await runCli(['messages', 'get', 'msg_000000000aaaaaaaaaaaaaaaa'], env);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('no message msg_000000000aaaaaaaaaaaaaaaa');
  });

  it('messages list: the pages GET /v1/messages gives an admin key, by --to and --cursor; a bad cursor is exit 2', async () => {
    const to = '905559990001';
    const ids: string[] = [];
    for (const text of ['list a', 'list b', 'list c']) {
      const res = await fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: `+${to}`, type: 'text', text: { body: text } }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const api = (await (await fetch(`${base}/v1/messages?to=${to}&limit=2`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as {
      items: { id: string }[];
      nextCursor: string | null;
    };
    const first = json<{ items: { id: string; caller: string }[]; nextCursor: string | null }>(await inProcess(['messages', 'list', '--to', `+${to}`, '--limit', '2', '--json'], env));
    expect(first.items.map((r) => r.id)).toEqual(api.items.map((r) => r.id));
    expect(first.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(first.items[0]!.caller).toBe('app');
    expect(first.nextCursor).not.toBeNull();
    const rest = json<{ items: { id: string }[] }>(await inProcess(['messages', 'list', '--to', to, '--limit', '2', '--cursor', first.nextCursor!, '--json'], env));
    expect(rest.items.map((r) => r.id)).toEqual([ids[0]]);
    const other = json<{ items: unknown[] }>(await inProcess(['messages', 'list', '--to', to, '--caller', 'someone-else', '--json'], env));
    expect(other.items).toEqual([]);
    const human = await inProcess(['messages', 'list', '--to', to, '--limit', '1'], env);
    expect(human.code).toBe(0);
    expect(human.out).toContain(ids[2]);
    expect(human.out).toMatch(/more: --cursor \S+/);
    const bad = await inProcess(['messages', 'list', '--cursor', 'not-a-cursor!'], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--cursor');
  });

  it('dead letters: lists both kinds, replays a message twice and it is sent once', async () => {
    sim.failNext(400, 1);
    const id = await send('cli dead letter');
    await waitFor(async () => ((await apiView(id)) as { status: string }).status === 'failed', { what: 'message failed' });
    const cb = await fetch(`${base}/webhooks/cbot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sample('t01-text') });
    expect(cb.status).toBe(200);
    const listed = async (...args: string[]) => json<{ items: Item[] }>(await inProcess(['dead-letters', 'list', '--json', ...args], env)).items;
    await waitFor(async () => (await listed('--kind', 'events')).length === 1, { what: 'the failed push listed' });

    const all = await listed();
    expect(all.map((i) => i.kind).sort()).toEqual(['event', 'message']);
    expect(all.find((i) => i.kind === 'message')).toMatchObject({ id, status: 'failed' });
    expect(all.find((i) => i.kind === 'event')).toMatchObject({ subscriber: 'crm' });
    expect(JSON.stringify(all)).not.toContain('"caller"');
    expect((await listed('--kind', 'messages')).map((i) => i.id)).toEqual([id]);
    expect(await listed('--since', '10m')).toHaveLength(2);
    expect(await listed('--since', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
    expect(await listed('--limit', '1')).toHaveLength(1);
    const table = await inProcess(['dead-letters', 'list'], env);
    expect(table.out).toContain(id);

    const first = await runCli(['dead-letters', 'replay', id, '--json'], env);
    expect(first.code).toBe(0);
    expect(json(first)).toMatchObject({ replayed: 1, skipped: 0, failed: 0, notFound: 0, items: [{ id, result: 'replayed' }] });
    const second = await runCli(['dead-letters', 'replay', id], env);
    expect(second.code).toBe(0);
    expect(second.out).toContain('replayed 0 · skipped 1 · failed 0');
    await waitFor(async () => ((await apiView(id)) as { status: string }).status === 'sent', { what: 'replayed message sent' });
    const third = await inProcess(['dead-letters', 'replay', id, '--json'], env);
    expect(json(third)).toMatchObject({ replayed: 0, skipped: 1 });
    expect(sentWith('cli dead letter')).toBe(1);

    const unknown = await inProcess(['dead-letters', 'replay', 'msg_000000000aaaaaaaaaaaaaaaa', `evt_${'0'.repeat(32)}.crm`, 'bogus'], env);
    expect(unknown.code).toBe(3);
    expect(unknown.out).toContain('not found 3');
  });

  it('dead-letters replay --all: the subscriber delivery once, a repeat replays nothing', async () => {
    const events = async () => json<{ items: Item[] }>(await inProcess(['dead-letters', 'list', '--kind', 'events', '--json'], env)).items;
    await waitFor(async () => (await events()).length === 1, { what: 'the failed push from the test before' });
    hook.ok = true;
    const none = await inProcess(['dead-letters', 'replay', '--all', '--since', new Date(Date.now() + 60_000).toISOString(), '--json'], env);
    expect(json(none)).toMatchObject({ replayed: 0, skipped: 0, more: false });
    const run = await runCli(['dead-letters', 'replay', '--all', '--since', '1h'], env);
    expect(run.code).toBe(0);
    expect(run.out.trim()).toBe('replayed 1 · skipped 0 · failed 0');
    const again = await runCli(['dead-letters', 'replay', '--all', '--json'], env);
    expect(json(again)).toMatchObject({ replayed: 0, skipped: 0, failed: 0, more: false });
    await waitFor(() => hook.delivered.length === 1, { what: 'the replayed push delivered' });
    await waitFor(async () => (await events()).length === 0, { what: 'no event dead letters left' });
    expect(hook.delivered).toHaveLength(1);
  });

  /** Three messages to one recipient fail in turn; `replay` puts them all back; CBOT must get them in acceptance order. */
  async function failThreeThenReplay(to: string, replay: () => Promise<number>): Promise<string[]> {
    // Apart in time, so their failure times differ by more than a millisecond.
    sim.setKnobs({ latencyMs: 5 });
    sim.failNext(400, 3);
    const ids: string[] = [];
    for (const text of ['order 1', 'order 2', 'order 3']) {
      const res = await fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to, type: 'text', text: { body: text } }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    await waitFor(async () => (await Promise.all(ids.map(apiView))).every((v) => (v as { status: string }).status === 'failed'), { what: 'all three failed' });
    expect(await replay()).toBe(3);
    await waitFor(() => sim.received().filter((m) => m.to === to).length === 3, { what: 'all three sent' });
    sim.setKnobs({ latencyMs: 0 });
    return sim.received().filter((m) => m.to === to).map((m) => (m.body.text as { body: string }).body);
  }

  it('replay --all (CLI and admin API) puts one recipient\'s failed messages back in the order they were accepted', async () => {
    const viaCli = await failThreeThenReplay('905550000777', async () =>
      json<{ replayed: number }>(await inProcess(['dead-letters', 'replay', '--all', '--kind', 'messages', '--json'], env)).replayed,
    );
    expect(viaCli).toEqual(['order 1', 'order 2', 'order 3']);
    const viaApi = await failThreeThenReplay('905550000778', async () => {
      const res = await fetch(`${base}/v1/dead-letters/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'message' }),
      });
      return ((await res.json()) as { replayed: number }).replayed;
    });
    expect(viaApi).toEqual(['order 1', 'order 2', 'order 3']);
  });

  it('subscribers list and queues stats: counts per queue, never a secret', async () => {
    const subs = await runCli(['subscribers', 'list', '--json'], env);
    expect(subs.code).toBe(0);
    expect(subs.out).not.toContain('whsec_');
    const { subscribers } = json<{ subscribers: { name: string; kind: string; queue: string; depth: number; deadLetters: number; url?: string }[] }>(subs);
    expect(subscribers.map((s) => [s.name, s.kind, s.queue]).sort()).toEqual([
      ['audit', 'queue', 'events.audit'],
      ['crm', 'http', 'push.crm'],
    ]);
    // The inbound message reached the queue subscriber, which nobody consumes here.
    const audit = async () => json<{ subscribers: { name: string; depth: number }[] }>(await inProcess(['subscribers', 'list', '--json'], env)).subscribers.find((s) => s.name === 'audit');
    await waitFor(async () => (await audit())?.depth === 1, { what: 'one event waiting for audit' });
    expect((await inProcess(['subscribers', 'list'], env)).out).toMatch(/audit\s+queue\s+message\.received\s+\*\s+yes\s+events\.audit\s+1\s+0/);

    const stats = json<{
      outbound: { backlog: { count: number; bytes: number }; oldestAgeSeconds: number; pending: unknown[] };
      inbound: { queue: string; counts: { waiting: number; failed: number } };
      subscribers: { name: string; counts: { waiting: number } }[];
    }>(await runCli(['queues', 'stats', '--json'], env));
    expect(stats.outbound).toEqual({ backlog: { count: 0, bytes: 0 }, oldestAgeSeconds: 0, pending: [] });
    expect(stats.inbound).toMatchObject({ queue: 'inbound', counts: { waiting: 0, failed: 0 } });
    expect(stats.subscribers.find((s) => s.name === 'audit')?.counts.waiting).toBe(1);
    expect((await inProcess(['queues', 'stats'], env)).out).toContain('outbound: 0 open');
  });

  it('subscribers grant: a Redis user that reads its own queue only; an HTTP subscriber is exit 2, an unknown one 3', async () => {
    const granted = json<{ username: string; password: string; queue: string }>(await inProcess(['subscribers', 'grant', 'audit', '--json'], env));
    expect(granted).toMatchObject({ username: 'audit-consumer', queue: 'events.audit' });
    const url = new URL(redis.url);
    url.username = granted.username;
    url.password = granted.password;
    const consumer = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await consumer.connect();
      expect(await consumer.exists(`${env.QUEUE_PREFIX}:events.audit:meta`)).toBe(1);
      await expect(consumer.exists(`${env.QUEUE_PREFIX}:push.crm:meta`)).rejects.toThrow(/NOPERM/);
    } finally {
      consumer.disconnect();
    }
    const http = await inProcess(['subscribers', 'grant', 'crm'], env);
    expect(http.code).toBe(2);
    expect(http.err).toContain('HTTP subscriber');
    expect((await inProcess(['subscribers', 'grant', 'nobody'], env)).code).toBe(3);
  });

  it('templates list and usage: what GET /v1/templates and GET /v1/usage (admin) answer; bad input is exit 2 or 3', async () => {
    const api = async (path: string, key: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })).json();
    // With nothing stored yet, the CLI asks CBOT itself.
    const fresh = await inProcess(['templates', 'list'], env);
    expect(fresh.code).toBe(0);
    expect(fresh.out).toMatch(/order_update\s+en_US\s+APPROVED\s+UTILITY/);
    expect(fresh.out).toMatch(/spring_sale\s+en_US\s+PENDING/);
    const listed = (await api('/v1/templates', API_KEY)) as { fetchedAt: string };
    expect(json(await inProcess(['templates', 'list', '--json'], env))).toEqual(listed);
    expect((await inProcess(['templates', 'list', '--channel', 'nope'], env)).code).toBe(3);

    // Status callbacks (with pricing) for one message; the webhook test below wants CBOT to hold no URL.
    sim.setKnobs({ statusCallbacks: true, statusDelaysMs: [0, 5, 10] });
    sim.setWebhook(`${base}/webhooks/cbot`);
    try {
      const id = await send('cli usage');
      await waitFor(async () => ((await apiView(id)) as { pricing?: unknown }).pricing !== undefined, { what: 'a priced record' });
    } finally {
      sim.setKnobs({ statusCallbacks: false });
      sim.forgetWebhook();
    }
    const usage = json<{ items: { caller: string; count: number }[] }>(await inProcess(['usage', '--since', '1d', '--json'], env));
    expect(usage).toEqual(await api(`/v1/usage?since=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`, ADMIN_KEY));
    expect(usage.items).toEqual([{ caller: 'app', channel: 'default', category: 'service', type: 'regular', count: 1 }]);
    const human = await inProcess(['usage', '--caller', 'app'], env);
    expect(human.out).toMatch(/app\s+default\s+service\s+regular\s+1/);
    expect(json<{ items: unknown[] }>(await inProcess(['usage', '--caller', 'nobody', '--json'], env)).items).toEqual([]);
    expect((await inProcess(['usage', '--since', 'yesterday'], env)).code).toBe(2);
    expect((await inProcess(['usage', '--since', '1d', '--until', '2d'], env)).code).toBe(2);
    expect((await inProcess(['usage', '--channel', 'nope'], env)).code).toBe(3);
  });

  it('webhook show and register against CBOT; refused is 1, unreachable 4, unknown channel 3', async () => {
    const hookEnv = { ...env, PUBLIC_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/cbot', CBOT_WEBHOOK_USER: 'cbot', CBOT_WEBHOOK_PASS: 's3cr3t-pass' };
    sim.forgetWebhook();
    expect(json(await runCli(['webhook', 'show', '--json'], hookEnv))).toEqual({
      channel: 'default',
      url: null,
      expected: 'http://127.0.0.1:9/webhooks/cbot',
      matches: false,
    });
    const reg = await runCli(['webhook', 'register'], hookEnv);
    expect(reg.code).toBe(0);
    expect(reg.out).toContain('registered: http://127.0.0.1:9/webhooks/cbot');
    expect(sim.webhook()).toEqual({
      url: 'http://127.0.0.1:9/webhooks/cbot',
      headers: { Authorization: `Basic ${Buffer.from('cbot:s3cr3t-pass').toString('base64')}` },
    });
    expect(json(await inProcess(['webhook', 'show', '--json'], hookEnv))).toMatchObject({ matches: true });

    const refused = await runCli(['webhook', 'register'], { ...hookEnv, CBOT_API_KEY: 'wrong-key' });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('CBOT refused the callback URL: HTTP 401');
    const down = await runCli(['webhook', 'show'], { ...hookEnv, CBOT_BASE_URL: `http://127.0.0.1:${await freePort()}/` });
    expect(down.code).toBe(4);
    expect(down.err).toContain('cannot reach CBOT');
    expect((await inProcess(['webhook', 'register', '--channel', 'sales'], hookEnv)).code).toBe(3);
    const noUrl = await inProcess(['webhook', 'register'], env);
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toContain('PUBLIC_WEBHOOK_URL');
  });

  it('media get writes the file from CBOT; an unknown id is 3, CBOT down 4', async () => {
    const up = await fetch(`${sim.url}v1/media`, { method: 'POST', headers: { authorization: `Bearer ${SIM_KEY}`, 'content-type': 'application/pdf' }, body: '%PDF-1.4 cli' });
    const { media } = (await up.json()) as { media: { id: string }[] };
    const file = join(mkdtempSync(join(tmpdir(), 'cli-media-')), 'out.pdf');
    const got = await inProcess(['media', 'get', media[0]!.id, '-o', file], env);
    expect(got.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('%PDF-1.4 cli');
    expect(got.err).toContain('application/pdf, 12 bytes');
    expect((await inProcess(['media', 'get', 'no-such-id'], env)).code).toBe(3);
    expect((await inProcess(['media', 'get', '../etc'], env)).code).toBe(2);
    expect((await inProcess(['media', 'get', '123'], { ...env, CBOT_BASE_URL: `http://127.0.0.1:${await freePort()}/` })).code).toBe(4);
  });
});

describe('cbot-relay CLI from the compiled dist (the image layout)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    // The workspace build, limited to the CLI and what it references (incremental: quick when built).
    const code = await new Promise<number | null>((resolve) => {
      const tsc = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'services/cli/tsconfig.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
      tsc.on('exit', resolve);
    });
    expect(code).toBe(0);
  }, 600_000);

  it('runs with plain node, no tsx and no source condition', async () => {
    const r = await runCli(['queues', 'stats', '--json'], env, 'dist');
    expect(r.code).toBe(0);
    expect(json<{ inbound: { queue: string } }>(r).inbound.queue).toBe('inbound');
    expect((await runCli(['messages', 'get', 'msg_000000000aaaaaaaaaaaaaaaa'], env, 'dist')).code).toBe(3);
  });
});
