import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cbot-relay/observability';
import { OutboundLanes } from '@cbot-relay/queues';
import { MessageStore } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { OrphanSweeper } from './orphan-sweeper.js';

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

describe('OrphanSweeper', () => {
  it('drops old queued records that have no job and keeps everything else', async () => {
    const prefix = uniquePrefix();
    const store = new MessageStore({ redis, prefix, recordTtlS: 3600 });
    const lanes = new OutboundLanes({ connection: redis, prefix, lanes: 4 });
    const body = '{"to":"1","type":"text","text":{"body":"x"}}';
    const now = 10 * 60_000;
    const accept = (id: string, at: number) => store.accept({ id, to: `9055${id}`, type: 'text', caller: 'crm', nowMs: at, body });
    await accept('orphan', 0);
    await store.acceptAndEnqueue({ id: 'queued', to: '9055queued', type: 'text', caller: 'crm', nowMs: 0, body }, lanes.jobCall({ id: 'queued', to: '9055queued' }));
    await accept('young-orphan', now - 1_000);
    const sweeper = new OrphanSweeper({ store, lanes, redis, prefix, log: createLogger({ level: 'silent' }), now: () => now });
    expect(await sweeper.sweep()).toBe(1);
    expect(await store.get('orphan')).toBeUndefined();
    expect((await store.get('queued'))?.status).toBe('queued');
    expect((await store.get('young-orphan'))?.status).toBe('queued');
    expect(await store.backlog()).toBe(2);
    await sweeper.close();
    await lanes.close();
  });
});
