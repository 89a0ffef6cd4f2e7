import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { createConsumer } from './index.js';
import type { ConsumerErrorInfo, HandlerContext, RelayEvent } from './index.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

const event = (n: number, type: RelayEvent['type'] = 'message.received'): RelayEvent => ({
  id: `evt_${n.toString(16).padStart(32, '0')}`,
  type,
  occurredAt: '2024-05-31T16:08:20.000Z',
  receivedAt: '2024-05-31T16:08:21.000Z',
  data: { id: `wamid.${n}`, type: 'text', text: { body: 'hi' } },
});

/** What the relay's fanout does for a queue subscriber (fast backoff for the test). */
async function produce(prefix: string, subscriber: string, events: unknown[]): Promise<Queue> {
  const q = new Queue(`events.${subscriber}`, { connection: redis, prefix });
  for (const [i, e] of events.entries()) {
    const id = (e as { id?: string }).id ?? `evt_bad${i}`;
    await q.add((e as { type?: string }).type ?? 'x', e, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 10 } });
  }
  return q;
}

describe('createConsumer', () => {
  it('hands each event to the handler, retries a throw, and reports invalid jobs without retrying', async () => {
    const prefix = uniquePrefix('consumer');
    const seen: [string, HandlerContext][] = [];
    const errors: [string, ConsumerErrorInfo][] = [];
    const consumer = createConsumer({
      subscriber: 'crm',
      connection: redis,
      prefix,
      handler: async (e, ctx) => {
        seen.push([e.id, ctx]);
        if (e.id === event(2).id && ctx.attempt === 1) throw new Error('CRM is busy');
      },
      onError: (err, info) => errors.push([err.message, info]),
    });
    const q = await produce(prefix, 'crm', [event(1), event(2), { id: `evt_${'b'.repeat(32)}`, type: 'message.received' }]);
    try {
      await waitFor(async () => (await q.getCompletedCount()) === 2 && (await q.getFailedCount()) === 1, { what: 'jobs done' });
      expect(seen).toEqual([
        [event(1).id, { attempt: 1, jobId: event(1).id }],
        [event(2).id, { attempt: 1, jobId: event(2).id }],
        [event(2).id, { attempt: 2, jobId: event(2).id }],
      ]);
      expect(errors).toHaveLength(2);
      expect(errors).toEqual(expect.arrayContaining([
        ['CRM is busy', { jobId: event(2).id, attempt: 1, kind: 'handler', willRetry: true }],
        [expect.stringMatching(/is not a relay event/), { jobId: `evt_${'b'.repeat(32)}`, attempt: 1, kind: 'invalid', willRetry: false }],
      ]));
      expect((await q.getJob(`evt_${'b'.repeat(32)}`))?.attemptsMade).toBe(1);
    } finally {
      await consumer.close();
      await q.close();
    }
  });

  it('skips types it was not asked for, opens its own connection from a URL, and closes idempotently', async () => {
    const prefix = uniquePrefix('consumer');
    const seen: string[] = [];
    const consumer = createConsumer({
      subscriber: 'statuses',
      connection: { url: server.url },
      prefix,
      concurrency: 2,
      types: ['message.status'],
      handler: async (e) => {
        seen.push(e.type);
      },
    });
    const q = await produce(prefix, 'statuses', [event(1), event(2, 'message.status'), event(3, 'unrecognized')]);
    try {
      await waitFor(async () => (await q.getCompletedCount()) === 3, { what: 'jobs done' });
      expect(seen).toEqual(['message.status']);
    } finally {
      const first = consumer.close();
      expect(consumer.close()).toBe(first);
      await first;
      await consumer[Symbol.asyncDispose]();
      await q.close();
    }
  });
});
