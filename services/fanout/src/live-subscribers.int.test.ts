import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { INBOUND_JOB_OPTIONS } from '@cbot-relay/queues';
import { MessageStore, SubscriberStore, generateSecret, rotateSecret } from '@cbot-relay/records';
import type { HttpSubscriberRecord, SubscriberRecord, SubscriberSnapshot } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startFanoutFromStore } from './fanout.js';
import type { Fanout } from './fanout.js';
import { SubscriberWatch } from './subscriber-watch.js';
import { FAST_FANOUT } from './test-support/rig.js';
import { Receiver } from './test-support/receiver.js';

let redis: TestRedis;
let connection: Redis;
const cleanup: (() => Promise<void>)[] = [];
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  connection.disconnect();
  await redis.close();
});

const http = (name: string, url: string, secret: string): HttpSubscriberRecord => ({
  name,
  kind: 'http',
  url,
  secret,
  previousSecrets: [],
  types: ['*'],
  enabled: true,
  createdAt: Date.now(),
  updatedAt: Date.now(),
  source: 'api',
});

let seq = 0;
/** A one-message text callback with a fresh message id; returns that id. */
function textCallback(): { raw: string; wamid: string } {
  const wamid = `wamid.live${++seq}.${Date.now()}`;
  const raw = JSON.stringify({ messages: [{ from: '905551112233', id: wamid, timestamp: '1717171700', type: 'text', text: { body: 'hi' } }] });
  return { raw, wamid };
}
const wamidOf = (body: string) => (JSON.parse(body) as { data: { id: string } }).data.id;

async function setup(opts: { now?: () => number; watchIntervalMs?: number } = {}) {
  const prefix = uniquePrefix('live');
  const store = new SubscriberStore({ redis: connection, prefix });
  const receiver = await Receiver.start();
  const inbound = new Queue('inbound', { connection, prefix });
  const fanout: Fanout = await startFanoutFromStore({
    connection,
    prefix,
    cluster: false,
    subscriberStore: store,
    watchIntervalMs: opts.watchIntervalMs ?? 60_000,
    store: new MessageStore({ redis: connection, prefix, recordTtlS: 3600 }),
    fanout: FAST_FANOUT,
    log,
    metrics: createMetrics(),
    pushBackoffMs: () => 50,
    depthIntervalMs: 0,
    retentionIntervalMs: 0,
    ...(opts.now ? { now: opts.now } : {}),
  });
  cleanup.push(() => receiver.close(), () => inbound.close(), () => fanout.close());
  const post = async () => {
    const cb = textCallback();
    await inbound.add('callback', { raw: cb.raw, receivedAt: Date.now() }, INBOUND_JOB_OPTIONS);
    return cb.wamid;
  };
  const drained = async () => {
    await waitFor(async () => Object.values(await inbound.getJobCounts('wait', 'active', 'delayed', 'prioritized')).every((n) => n === 0), { what: 'inbound drained' });
  };
  const names = () => fanout.subscribers.map((s) => s.name);
  return { prefix, store, receiver, fanout, post, drained, names };
}

describe('subscribers from the store', () => {
  it('follows create, disable, enable, URL change and delete without a restart', async () => {
    const { store, receiver, post, drained, names, prefix } = await setup();
    expect(names()).toEqual([]);
    await store.create(http('hook', receiver.url, generateSecret()));
    await waitFor(() => names().includes('hook'), { what: 'hook known to fanout' });
    const first = await post();
    await waitFor(() => receiver.delivered().map(wamidOf).includes(first), { what: 'push to the new subscriber' });

    // A delivery still being retried when the subscriber is disabled waits in its queue.
    receiver.status = 500;
    const pending = await post();
    await waitFor(() => receiver.received.some((r) => wamidOf(r.body) === pending), { what: 'a failed attempt' });
    await store.update('hook', (cur) => ({ ...cur, enabled: false }));
    await waitFor(() => names().length === 0, { what: 'hook disabled' });
    const push = new Queue('push.hook', { connection, prefix });
    cleanup.push(() => push.close());
    // An attempt in flight when the worker was told to stop ends (as a failure) before the receiver heals.
    await waitFor(async () => (await push.getJobCounts('active')).active === 0, { what: 'no attempt in flight' });
    receiver.status = 200;
    const whileDisabled = await post();
    await drained();
    const counts = await push.getJobCounts('wait', 'delayed', 'active');
    expect((counts.wait ?? 0) + (counts.delayed ?? 0)).toBe(1); // `pending`, and nothing for `whileDisabled`

    const other = await Receiver.start();
    cleanup.push(() => other.close());
    await store.update('hook', (cur) => ({ ...cur, enabled: true, url: other.url }) as SubscriberRecord);
    await waitFor(() => names().includes('hook'), { what: 'hook enabled again' });
    const afterMove = await post();
    await waitFor(() => other.delivered().map(wamidOf).includes(afterMove), { what: 'push to the new URL' });
    await waitFor(() => other.delivered().map(wamidOf).includes(pending), { what: 'the waiting delivery, once enabled' });

    await store.delete('hook');
    await waitFor(() => names().length === 0, { what: 'hook deleted' });
    const afterDelete = await post();
    await drained();
    expect((await push.getJobCounts('wait', 'delayed', 'active')).wait).toBe(0);
    const everything = [...receiver.received, ...other.received].map((r) => wamidOf(r.body));
    expect(everything).not.toContain(whileDisabled);
    expect(everything).not.toContain(afterDelete);
    expect(receiver.delivered().map(wamidOf)).not.toContain(afterMove);
    expect(receiver.delivered().map(wamidOf)).not.toContain(pending);
  });

  it('signs with the old and the new secret during a rotation overlap, with the new one only after it (standardwebhooks verifies)', async () => {
    let skewMs = 0;
    const { store, receiver, post, fanout } = await setup({ now: () => Date.now() + skewMs });
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    await store.create(http('hook', receiver.url, oldSecret));
    await store.update('hook', (cur) => rotateSecret(cur as HttpSubscriberRecord, newSecret, 60, Date.now()));
    await waitFor(() => fanout.subscribers.find((s) => s.name === 'hook')?.previousSecrets?.length === 1, { what: 'rotation applied' });
    const during = await post();
    await waitFor(() => receiver.delivered().some((b) => wamidOf(b) === during), { what: 'push during the overlap' });
    const d = receiver.received.find((r) => wamidOf(r.body) === during)!;
    const headers = d.headers as Record<string, string>;
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(wamidOf(JSON.stringify(new Webhook(newSecret).verify(d.body, headers)))).toBe(during);
    expect(wamidOf(JSON.stringify(new Webhook(oldSecret).verify(d.body, headers)))).toBe(during);

    skewMs = 61_000; // past the 60 s overlap, within the verifier's 5-minute timestamp tolerance
    const after = await post();
    await waitFor(() => receiver.delivered().some((b) => wamidOf(b) === after), { what: 'push after the overlap' });
    const a = receiver.received.find((r) => wamidOf(r.body) === after)!;
    const aHeaders = a.headers as Record<string, string>;
    expect(aHeaders['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(a.body, aHeaders)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(a.body, aHeaders)).toThrow(/signature/i);
  });

  it('feeds a name deleted and created again as the other kind into its new queue', async () => {
    const { store, receiver, post, names, prefix, drained, fanout } = await setup();
    await store.create({ name: 'flip', kind: 'queue', types: ['*'], enabled: true, createdAt: 1, updatedAt: 1, source: 'api' });
    await waitFor(() => names().includes('flip'), { what: 'queue subscriber known' });
    await post();
    await drained();
    await store.delete('flip');
    await store.create(http('flip', receiver.url, generateSecret()));
    await waitFor(() => fanout.subscribers.find((s) => s.name === 'flip')?.kind === 'http', { what: 'flip, now an HTTP subscriber' });
    const wamid = await post();
    await waitFor(() => receiver.delivered().map(wamidOf).includes(wamid), { what: 'push to the recreated subscriber' });
    const events = new Queue('events.flip', { connection, prefix });
    cleanup.push(() => events.close());
    expect((await events.getJobCounts('wait')).wait).toBe(1); // the first event only
  });
});

describe('SubscriberWatch', () => {
  it('hears a change on Pub/Sub at once, and finds one it was not told of by polling the version', async () => {
    const prefix = uniquePrefix('watch');
    const store = new SubscriberStore({ redis: connection, prefix });
    const seen: SubscriberSnapshot[] = [];
    const slow = await SubscriberWatch.start({ store, connection, version: 0, pollMs: 600_000, log, onChange: (s) => seen.push(s) });
    cleanup.push(() => slow.close());
    await store.create(http('a', 'http://127.0.0.1:1/', generateSecret()));
    await waitFor(() => seen.length === 1, { what: 'notified change', timeoutMs: 2_000 });
    expect(seen[0]?.subscribers.map((s) => s.name)).toEqual(['a']);

    const heard: SubscriberSnapshot[] = [];
    const fresh = await SubscriberWatch.start({ store, connection, version: 1, pollMs: 200, log, onChange: (s) => heard.push(s) });
    cleanup.push(() => fresh.close());
    // A change written without its notification (as if published while the connection was down).
    await connection.hset(`${prefix}:subscribers`, 'b', JSON.stringify(http('b', 'http://127.0.0.1:1/', generateSecret())));
    await connection.incr(`${prefix}:subscribers:version`);
    await waitFor(() => heard.length === 1, { what: 'polled change' });
    expect(heard[0]?.subscribers.map((s) => s.name)).toEqual(['a', 'b']);
  });
});
