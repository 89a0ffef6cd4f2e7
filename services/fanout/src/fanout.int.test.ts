import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import type { Consumer } from '@cbot-relay/consumer';
import { eventsFromCallback } from '@cbot-relay/messages';
import type { RelayEvent } from '@cbot-relay/messages';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { Rig, TEST_SECRET } from './test-support/rig.js';
import { Outbound } from '@cbot-relay/records';
import { readSample, sampleNames } from './test-support/samples.js';
import { allSettled } from './test-support/settle.js';
import { verifyStandardWebhook } from './test-support/verify-standard-webhook.js';

let redis: TestRedis;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await redis.close();
});

async function rig(subscribers: (url: string) => unknown[]): Promise<Rig> {
  const r = await Rig.start({ redisUrl: redis.url, prefix: uniquePrefix('fanout'), subscribers });
  cleanup.push(() => r.close());
  return r;
}

function consume(r: Rig, subscriber: string): RelayEvent[] {
  const got: RelayEvent[] = [];
  const c: Consumer = createConsumer({
    subscriber,
    connection: r.connection,
    prefix: r.opts.prefix,
    concurrency: 4,
    handler: async (event) => {
      got.push(event);
    },
  });
  cleanup.push(() => c.close());
  return got;
}

function queues(r: Rig, names: string[]): Queue[] {
  const qs = [r.inbound, ...names.map((n) => r.queue(n))];
  cleanup.push(async () => {
    await Promise.all(qs.slice(1).map((q) => q.close()));
  });
  return qs;
}

const crmAndHook = (url: string) => [
  { name: 'crm', kind: 'queue' },
  { name: 'hook', kind: 'http', url, secret: TEST_SECRET },
];

const ids = (events: { id: string }[]) => events.map((e) => e.id).sort();

describe('fanout', () => {
  it('turns every inbound sample into exactly one event per message/status at each subscriber', async () => {
    const r = await rig(crmAndHook);
    const got = consume(r, 'crm');
    const qs = queues(r, ['events.crm', 'push.hook']);
    const expected: RelayEvent[] = [];
    for (const name of sampleNames()) {
      const raw = readSample(name);
      const receivedAt = Date.now();
      expected.push(...eventsFromCallback(JSON.parse(raw), new Date(receivedAt), raw));
      await r.post(raw, receivedAt);
    }
    expect(expected.filter((e) => e.type === 'unrecognized')).toEqual([]);
    expect(expected).toHaveLength(sampleNames().length + 1); // t11 holds two messages

    await waitFor(async () => got.length >= expected.length && r.receiver.delivered().length >= expected.length && allSettled(qs), {
      what: 'every event at both subscribers',
    });
    expect(ids(got)).toEqual(ids(expected));
    expect(got.map((e) => e.data)).toEqual(expect.arrayContaining(expected.map((e) => e.data)));

    const pushed = r.receiver.received;
    expect(ids(pushed.map((p) => JSON.parse(p.body) as RelayEvent))).toEqual(ids(expected));
    for (const p of pushed) {
      expect(p.headers['content-type']).toBe('application/json');
      expect(p.headers['webhook-id']).toBe((JSON.parse(p.body) as RelayEvent).id);
      expect(verifyStandardWebhook(TEST_SECRET, p.headers, p.body, Math.floor(Date.now() / 1000))).toBe(true);
    }
  });

  it('caps one callback at CALLBACK_MAX_ITEMS events and bounds a queue subscriber nobody consumes', async () => {
    const r = await Rig.start({
      redisUrl: redis.url,
      prefix: uniquePrefix('fanout'),
      subscribers: () => [
        { name: 'idle', kind: 'queue', maxWaiting: 3 },
        { name: 'unbounded', kind: 'queue', maxWaiting: 0 },
      ],
      fanout: { callbackMaxItems: 4, subscriberMaxWaiting: 1_000_000 },
    });
    cleanup.push(() => r.close());
    const qs = queues(r, ['events.idle', 'events.unbounded']);
    const contact = { wa_id: '905551112233', profile: { name: 'Ayşe' }, blob: 'x'.repeat(20_000) };
    const messages = Array.from({ length: 6 }, (_, i) => ({ id: `wamid.cap${i}`, from: '905551112233', type: 'text', text: { body: `m${i}` } }));
    await r.post(JSON.stringify({ contacts: [contact], messages }));
    await waitFor(async () => (await r.inboundBacklog()) === 0 && (await qs[2]!.getWaitingCount()) === 5, { what: 'callback fanned out' });

    const events = (await qs[2]!.getJobs(['wait'], 0, -1, true)).map((j) => j.data as RelayEvent);
    expect(events.map((e) => e.type)).toEqual([...Array(4).fill('message.received'), 'unrecognized']);
    expect(events[0]!.contact).toEqual({ wa_id: '905551112233', profile: { name: 'Ayşe' }, truncated: true });
    expect((events[4]!.data as { messages: unknown[] }).messages).toEqual(messages.slice(4));

    await r.fanout.retention.sweep();
    expect(await qs[1]!.getWaitingCount()).toBe(3);
    expect(await qs[2]!.getWaitingCount()).toBe(5);
    const dropped = (await r.metrics.subscriberDropped.get()).values;
    expect(dropped).toEqual([expect.objectContaining({ labels: { subscriber: 'idle', reason: 'max_waiting' }, value: 2 })]);
    const lag = (await r.metrics.subscriberWaiting.get()).values.map((v) => [v.labels['subscriber'], v.value]);
    expect(lag).toEqual([['idle', 3], ['unbounded', 5]]);
  });

  it('never repeats an event for a redelivered callback, even after the first jobs were consumed and removed', async () => {
    const r = await rig(crmAndHook);
    const got = consume(r, 'crm');
    const qs = queues(r, ['events.crm', 'push.hook']);
    const raw = readSample('t11-batch-two-senders');
    for (let i = 0; i < 3; i++) await r.post(raw);
    await waitFor(async () => got.length >= 2 && r.receiver.delivered().length >= 2 && allSettled(qs), { what: 'first delivery' });
    expect(got).toHaveLength(2);

    // What removeOnComplete's age/count pruning does: the job keys go, the deduplication key stays.
    for (const q of qs.slice(1)) {
      for (const e of got) {
        await r.connection.del(q.toKey(e.id));
        await r.connection.zrem(q.toKey('completed'), e.id);
        expect(await q.getJob(e.id)).toBeUndefined();
      }
    }
    const duplicatesBefore = (await r.metrics.duplicateEvents.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 2; i++) {
      await r.post(raw);
      await waitFor(async () => allSettled(qs), { what: 'redelivery processed' });
    }
    expect(got).toHaveLength(2);
    expect(r.receiver.received).toHaveLength(2);
    expect(await qs[1]!.getJobCounts('completed', 'wait')).toEqual({ completed: 0, wait: 0 });
    expect((await r.metrics.duplicateEvents.get()).values[0]?.value).toBe(duplicatesBefore + 4);
  });

  it('gives each subscriber only the event types it lists', async () => {
    const r = await rig((url) => [
      { name: 'statuses', kind: 'queue', types: ['message.status'] },
      { name: 'everything', kind: 'queue', types: ['*'] },
      { name: 'received', kind: 'http', url, secret: TEST_SECRET, types: ['message.received'] },
    ]);
    const statuses = consume(r, 'statuses');
    const everything = consume(r, 'everything');
    const qs = queues(r, ['events.statuses', 'events.everything', 'push.received']);
    await r.post(readSample('t01-text'));
    await r.post(readSample('t12-status-sent'));
    await waitFor(async () => everything.length >= 2 && allSettled(qs), { what: 'events' });
    expect(everything.map((e) => e.type).sort()).toEqual(['message.received', 'message.status']);
    expect(statuses.map((e) => e.type)).toEqual(['message.status']);
    expect(r.receiver.received.map((p) => (JSON.parse(p.body) as RelayEvent).type)).toEqual(['message.received']);
  });

  it('moves the sent message record forward and names its relay id on status events', async () => {
    const r = await rig(crmAndHook);
    const got = consume(r, 'crm');
    const qs = queues(r, ['events.crm', 'push.hook']);
    const wamid = 'gBEGkFVVURIjAglUkoXGn5bLqiA';
    const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
    const outbound = new Outbound({ redis: r.connection, prefix: r.opts.prefix, recordTtlS: 3600 });
    await outbound.accept({ id: 'msg_0001', to: '905551112233', type: 'text', caller: 'crm', priority: 'normal', nowMs: Date.now(), body });
    const [lease] = (await outbound.claim(1, Date.now(), { leaseMs: 60_000, maxAgeMs: 60_000, ratePerSecond: 1_000 })).leases;
    await outbound.settle(lease!, Date.now(), { kind: 'sent', wamid });

    const post = async (sample: string, events: number) => {
      await r.post(readSample(sample));
      await waitFor(async () => got.length >= events && allSettled(qs), { what: sample });
    };
    await post('t13-status-delivered', 1);
    expect((await r.store.get('msg_0001'))?.status).toBe('delivered');
    await post('t14-status-read', 2);
    await post('t12-status-sent', 3); // late: emitted, but the record stays read
    await post('t13-status-delivered', 3); // redelivered: nothing new
    expect((await r.store.get('msg_0001'))?.status).toBe('read');
    expect(got.map((e) => [(e.data as { status: string }).status, e.relayMessageId])).toEqual([
      ['delivered', 'msg_0001'],
      ['read', 'msg_0001'],
      ['sent', 'msg_0001'],
    ]);
    await waitFor(() => r.receiver.delivered().length >= 3, { what: 'pushes' });
    expect(r.receiver.delivered().map((b) => (JSON.parse(b) as RelayEvent).relayMessageId)).toEqual(['msg_0001', 'msg_0001', 'msg_0001']);

    // A status for a message the relay did not send carries no relay id.
    await post('t15-status-failed-470', 4);
    expect(got[3]?.relayMessageId).toBeUndefined();
  });

  it('keeps a non-JSON callback as an unrecognized event and fails an invalid inbound job without retrying', async () => {
    const r = await rig(crmAndHook);
    const got = consume(r, 'crm');
    await r.post('not json at all');
    await waitFor(() => got.length >= 1, { what: 'unrecognized event' });
    expect(got[0]).toMatchObject({ type: 'unrecognized', data: 'not json at all' });

    const job = await r.inbound.add('callback', { raw: 42 }, { attempts: 10, backoff: { type: 'fixed', delay: 10 } });
    await waitFor(async () => (await job.getState()) === 'failed', { what: 'invalid job failed' });
    expect((await r.inbound.getJob(job.id!))?.attemptsMade).toBe(1);
  });

  it('reports running, and close() is idempotent', async () => {
    const r = await rig(crmAndHook);
    await waitFor(() => r.fanout.running, { what: 'running' });
    const first = r.fanout.close();
    expect(r.fanout.close()).toBe(first);
    await first;
    await r.fanout[Symbol.asyncDispose]();
    expect(r.fanout.running).toBe(false);
  });
});
