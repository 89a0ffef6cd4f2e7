import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { startTestRedis } from '@cbot-relay/testing';

/**
 * A Redis of the test file's own (testcontainers or a local redis-server) and a client on it, both
 * stopped after the file's tests. Call at the top of a test file: `const redis = await useTestRedis();`
 */
export async function useTestRedis(): Promise<Redis> {
  const server = await startTestRedis();
  const redis = new Redis(server.url);
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });
  return redis;
}
