import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { INBOUND_JOB_OPTIONS } from './catalog.js';
import { ADD_STANDARD_JOB_LUA, BatchedJobAdder, StandardJobCalls, standardJobCall } from './standard-job-call.js';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  redis.defineCommand('addStandardJobDirect', { numberOfKeys: 9, lua: ADD_STANDARD_JOB_LUA });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

describe('standardJobCall', () => {
  it('stores a job exactly as queue.add does, and a Worker processes it the same way', async () => {
    const prefix = uniquePrefix();
    const queue = new Queue('out.0', { connection: redis, prefix });
    const opts = { removeOnComplete: true, removeOnFail: { age: 60 } } as const;
    await queue.add('m', { id: 'a', to: '90555' }, { ...opts, jobId: 'a' });
    const call = standardJobCall(queue, 'm', { id: 'b', to: '90555' }, { ...opts, jobId: 'b' });
    const run = (redis as unknown as { addStandardJobDirect: (...a: unknown[]) => Promise<string> }).addStandardJobDirect;
    await expect(run.call(redis, ...call.keys, ...call.args)).resolves.toBe('b');

    // Same fields, same options (but the job id), same everything except time and data.
    const fields = (h: Record<string, string>) => {
      const { timestamp: _t, data: _d, opts, ...rest } = h;
      const { jobId: _j, ...jobOpts } = JSON.parse(opts ?? '{}') as Record<string, unknown>;
      return { ...rest, opts: jobOpts };
    };
    const [a, b] = await Promise.all([redis.hgetall(`${prefix}:out.0:a`), redis.hgetall(`${prefix}:out.0:b`)]);
    expect(fields(b)).toEqual(fields(a));
    expect(JSON.parse(b.opts!)).toMatchObject({ jobId: 'b' });
    expect(JSON.parse(b.data!)).toEqual({ id: 'b', to: '90555' });
    expect(await redis.lrange(`${prefix}:out.0:wait`, 0, -1)).toEqual(['b', 'a']);

    // Adding the same id again is a no-op, like queue.add with an existing jobId.
    await run.call(redis, ...call.keys, ...call.args);
    expect(await redis.llen(`${prefix}:out.0:wait`)).toBe(2);

    const seen: string[] = [];
    const worker = new Worker('out.0', async (job: Job) => void seen.push(job.id!), { connection: redis, prefix });
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['a', 'b']);
    await worker.close();
    await queue.close();
  });
});

describe('StandardJobCalls', () => {
  it('builds the same call as standardJobCall, but for the time', async () => {
    const queue = new Queue('out.1', { connection: redis, prefix: uniquePrefix() });
    const opts = { removeOnComplete: true, removeOnFail: { age: 60 }, attempts: 3, backoff: { type: 'exponential', delay: 5 } } as const;
    const calls = new StandardJobCalls(queue, 'm', opts);
    for (const data of [{ id: 'a', to: '1' }, null, undefined, 'text']) {
      const at = Date.now();
      const fast = calls.call(data, at);
      const reference = standardJobCall(queue, 'm', data, opts);
      expect(fast.keys).toEqual(reference.keys);
      expect(fast.args.slice(1)).toEqual(reference.args.slice(1));
      const [first, ref] = [fast.args[0], reference.args[0]].map((b) => unpack(b as Buffer) as unknown[]);
      expect(first![3]).toBe(at);
      expect([...first!.slice(0, 3), ...first!.slice(4)]).toEqual([...ref!.slice(0, 3), ...ref!.slice(4)]);
    }
    expect(() => new StandardJobCalls(queue, 'm', { jobId: 'x' })).toThrow();
    await queue.close();
  });
});

describe('BatchedJobAdder', () => {
  it('adds concurrent jobs in one script call, stored as queue.add stores them, and a Worker runs each', async () => {
    const prefix = uniquePrefix();
    const queue = new Queue('inbound', { connection: redis, prefix });
    await queue.add('cb', { raw: 'ref', receivedAt: 1 }, INBOUND_JOB_OPTIONS);
    const adder = new BatchedJobAdder<{ raw: string; receivedAt: number }>(redis, queue, 'cb', INBOUND_JOB_OPTIONS);
    const calls = async () => Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(await redis.info('commandstats'))?.[1] ?? 0);
    await adder.add({ raw: 'warm-up', receivedAt: 2 }); // the first call on a connection is an EVAL
    const before = await calls();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => adder.add({ raw: `r${i}`, receivedAt: 3 })));
    expect(await calls()).toBe(before + 1);
    expect(new Set(ids).size).toBe(20);

    const fields = (h: Record<string, string>) => {
      const { timestamp: _t, data: _d, ...rest } = h;
      return rest;
    };
    const [ref, added] = await Promise.all([redis.hgetall(`${prefix}:inbound:1`), redis.hgetall(`${prefix}:inbound:${ids[0]}`)]);
    expect(fields(added)).toEqual(fields(ref));
    expect(JSON.parse(added.data!)).toEqual({ raw: 'r0', receivedAt: 3 });

    const seen: string[] = [];
    const worker = new Worker('inbound', async (job: Job) => void seen.push((job.data as { raw: string }).raw), { connection: redis, prefix });
    await waitFor(() => seen.length === 22);
    expect(seen.slice(2)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    await worker.close();
    await queue.close();
  });
});
