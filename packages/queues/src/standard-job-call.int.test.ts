import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { ADD_STANDARD_JOB_LUA, standardJobCall } from './standard-job-call.js';

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
