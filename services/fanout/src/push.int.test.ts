import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import { eventsFromCallback } from '@cbot-relay/messages';
import type { RelayEvent } from '@cbot-relay/messages';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { RelayConfig } from '@cbot-relay/config';
import type { EventDeadLetter } from './dead-letters.js';
import { Rig, TEST_SECRET } from './test-support/rig.js';
import { readSample, sampleNames } from './test-support/samples.js';
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

interface Setup {
  r: Rig;
  got: RelayEvent[];
  errors: { kind: string; jobId: string | undefined }[];
  push: Queue;
}

async function rig(fanout: Partial<RelayConfig['fanout']>): Promise<Setup> {
  const r = await Rig.start({
    redisUrl: redis.url,
    prefix: uniquePrefix('push'),
    subscribers: (url) => [
      { name: 'crm', kind: 'queue' },
      { name: 'hook', kind: 'http', url, secret: TEST_SECRET },
    ],
    fanout,
  });
  const got: RelayEvent[] = [];
  const errors: Setup['errors'] = [];
  const consumer = createConsumer({
    subscriber: 'crm',
    connection: r.connection,
    prefix: r.opts.prefix,
    handler: async (e) => {
      got.push(e);
    },
    onError: (_err, info) => errors.push({ kind: info.kind, jobId: info.jobId }),
  });
  const push = r.queue('push.hook');
  cleanup.push(() => r.close(), () => consumer.close(), () => push.close());
  return { r, got, errors, push };
}

const idOf = (body: string) => (JSON.parse(body) as RelayEvent).id;

describe('HTTP push', () => {
  it('delivers everything to a subscriber that was down, without delaying a queue subscriber', async () => {
    const { r, got } = await rig({ pushMaxAttempts: 1_000 });
    r.receiver.status = 500;
    const expected = new Set<string>();
    for (const name of sampleNames()) {
      const raw = readSample(name);
      for (const e of eventsFromCallback(JSON.parse(raw), new Date(), raw)) expected.add(e.id);
      await r.post(raw);
    }
    // The queue subscriber has everything while the HTTP one is still refusing (and being retried).
    await waitFor(() => got.length >= expected.size, { what: 'queue subscriber events' });
    await waitFor(() => r.receiver.received.length >= 2 * expected.size, { what: 'failed push attempts' });
    expect(r.receiver.delivered()).toEqual([]);

    r.receiver.status = 200;
    await waitFor(() => new Set(r.receiver.delivered().map(idOf)).size >= expected.size, { what: 'pushes after recovery' });
    const delivered = r.receiver.delivered().map(idOf);
    expect(new Set(delivered)).toEqual(expected);
    expect(delivered).toHaveLength(expected.size);

    for (const p of r.receiver.received) {
      // Same webhook-id on every attempt; each attempt signed with its own timestamp.
      expect(p.headers['webhook-id']).toBe(idOf(p.body));
      expect(verifyStandardWebhook(TEST_SECRET, p.headers, p.body, Math.floor(Date.now() / 1000))).toBe(true);
    }
    // The receiver records a push before the worker reads its answer and counts it: wait for the count.
    const deliveredCount = async () => (await r.metrics.pushes.get()).values.find((v) => v.labels.outcome === 'delivered')?.value;
    await waitFor(async () => (await deliveredCount()) === expected.size, { what: 'delivered pushes counted', timeoutMs: 5_000 }).catch(() => undefined);
    expect(await deliveredCount()).toBe(expected.size);
  });

  it('keeps events a subscriber never took as dead letters, lists them and replays them', async () => {
    const { r, push } = await rig({ pushMaxAttempts: 2 });
    r.receiver.status = 500;
    const text = readSample('t01-text');
    const status = readSample('t12-status-sent');
    const [textEvent] = eventsFromCallback(JSON.parse(text), new Date(), text);
    const [statusEvent] = eventsFromCallback(JSON.parse(status), new Date(), status);
    await r.post(text);
    await r.post(status);
    await waitFor(async () => (await push.getFailedCount()) === 2, { what: 'two dead letters' });
    expect(r.receiver.received).toHaveLength(4);

    const list = await r.fanout.deadLetters.list(10);
    expect(list.map((d) => d.id).sort()).toEqual([`${textEvent!.id}.hook`, `${statusEvent!.id}.hook`].sort());
    const dl = list.find((d) => d.event !== undefined && (d.event as RelayEvent).id === textEvent!.id) as EventDeadLetter;
    expect(dl).toMatchObject({
      kind: 'event',
      subscriber: 'hook',
      type: 'message.received',
      failedReason: 'subscriber answered HTTP 500',
      attemptsMade: 2,
      event: { id: textEvent!.id, type: 'message.received' },
    });
    expect(Date.parse(dl.failedAt ?? '')).not.toBeNaN();
    expect(dl.id).toMatch(/^evt_[0-9a-f]{32}\.hook$/);
    expect(await r.fanout.deadLetters.list(1)).toHaveLength(1);

    r.receiver.status = 200;
    await expect(r.fanout.deadLetters.replay(dl.id)).resolves.toEqual({ kind: 'replayed' });
    await waitFor(() => r.receiver.delivered().length === 1, { what: 'replayed push' });
    expect(r.receiver.received.at(-1)?.headers['webhook-id']).toBe(textEvent!.id);
    await waitFor(async () => (await push.getCompletedCount()) === 1, { what: 'replay completed' });
    expect((await r.fanout.deadLetters.list(10)).map((d) => d.id)).toEqual([`${statusEvent!.id}.hook`]);

    // Replayed and delivered: a second replay is refused, and nothing more is sent.
    await expect(r.fanout.deadLetters.replay(dl.id)).resolves.toEqual({ kind: 'not-failed', state: 'completed' });
    await expect(r.fanout.deadLetters.replay(`evt_${'0'.repeat(32)}.hook`)).resolves.toEqual({ kind: 'missing' });
    await expect(r.fanout.deadLetters.replay(`${statusEvent!.id}.nosuch`)).resolves.toEqual({ kind: 'missing' });
    await expect(r.fanout.deadLetters.replay('evt_nope')).resolves.toEqual({ kind: 'missing' });

    // Replay many: a `since` after the failure takes nothing; without it the one left goes once.
    await expect(r.fanout.deadLetters.replayMany(Date.now() + 60_000, 100)).resolves.toEqual({ replayed: 0, skipped: 0, more: false });
    await expect(r.fanout.deadLetters.replayMany(undefined, 100)).resolves.toEqual({ replayed: 1, skipped: 0, more: false });
    await expect(r.fanout.deadLetters.replayMany(undefined, 100)).resolves.toEqual({ replayed: 0, skipped: 0, more: false });
    await waitFor(() => r.receiver.delivered().length === 2, { what: 'status event replayed' });
    const deliveredIds = r.receiver.received.filter((p) => p.status < 300).map((p) => p.headers['webhook-id']);
    expect(deliveredIds.sort()).toEqual([textEvent!.id, statusEvent!.id].sort());
    expect(await r.fanout.deadLetters.list(10)).toEqual([]);
  });

  it('lists a queue subscriber job that can never be handled as a dead letter too', async () => {
    const { r, errors } = await rig({});
    const events = r.queue('events.crm');
    cleanup.push(() => events.close());
    const id = `evt_${'a'.repeat(32)}`;
    await events.add('message.received', { not: 'an event' }, { jobId: id, attempts: 10 });
    await waitFor(async () => (await events.getFailedCount()) === 1, { what: 'invalid job failed' });
    expect(await r.fanout.deadLetters.list(10)).toMatchObject([{ id: `${id}.crm`, subscriber: 'crm', attemptsMade: 1 }]);
    expect(errors).toEqual([{ kind: 'invalid', jobId: id }]);
  });
});
