import { LocalRedis } from './local-redis.js';

export interface TestRedis {
  url: string;
  /** `local` when a redis-server child runs it, `container` under testcontainers. */
  kind: 'local' | 'container';
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A Redis for one test file: a testcontainers `redis` container when a container runtime answers,
 * else a local `redis-server` child. CBOT_RELAY_TEST_REDIS=local|container forces one.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const forced = process.env.CBOT_RELAY_TEST_REDIS;
  if (forced !== 'local' && (forced === 'container' || (await containerRuntimeAvailable()))) {
    try {
      return await startContainerRedis();
    } catch (err) {
      if (forced === 'container') throw err;
    }
  }
  const local = await LocalRedis.start();
  return wrap(local.url, 'local', () => local.close());
}

let runtimeProbe: Promise<boolean> | undefined;

async function containerRuntimeAvailable(): Promise<boolean> {
  runtimeProbe ??= (async () => {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await Promise.race([
        getContainerRuntimeClient(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('probe timeout')), 5_000).unref()),
      ]);
      return Boolean(client);
    } catch {
      return false;
    }
  })();
  return runtimeProbe;
}

async function startContainerRedis(): Promise<TestRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return wrap(url, 'container', async () => {
    await container.stop();
  });
}

function wrap(url: string, kind: TestRedis['kind'], stop: () => Promise<void>): TestRedis {
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= stop());
  return { url, kind, close, [Symbol.asyncDispose]: close };
}
