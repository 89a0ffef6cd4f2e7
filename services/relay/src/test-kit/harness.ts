import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim, SimKnobs } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { Logger, Metrics } from '@cbot-relay/observability';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from '../relay.js';
import type { Relay } from '../relay.js';

export const API_KEY = 'crm-key-123456';
export const OTHER_API_KEY = 'other-key-123456';
export const ADMIN_KEY = 'admin-key-123456';
export const CBOT_KEY = 'test-cbot-key';
export const BASIC = `Basic ${Buffer.from('cbot-relay:s3cr3t-pass').toString('base64')}`;

export interface Harness {
  redis: TestRedis;
  sim: CbotSim;
  relay: Relay;
  base: string;
  prefix: string;
  env: Record<string, string>;
  /** The relay's own metrics registry (this process). */
  metrics: Metrics;
  /** Callbacks the ingress made durable so far (relay_callbacks_received_total). */
  callbacksTaken(): Promise<number>;
  send(body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(id: string, key?: string): Promise<Response>;
  admin(path: string, method?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Everything real: a Redis of its own, the HTTP simulator, and the relay's roles in this process. */
export async function startHarness(
  opts: { env?: Record<string, string>; knobs?: Partial<SimKnobs>; redis?: TestRedis; log?: Logger } = {},
): Promise<Harness> {
  const redis = opts.redis ?? (await startTestRedis());
  const sim = await startCbotSim({ apiKey: CBOT_KEY, knobs: { statusDelaysMs: [5, 10, 15], ...opts.knobs } });
  const prefix = uniquePrefix('relay');
  const env: Record<string, string> = {
    RELAY_API_KEYS: `crm:${API_KEY},other:${OTHER_API_KEY}`,
    RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`,
    CBOT_BASE_URL: sim.url,
    CBOT_API_KEY: CBOT_KEY,
    CBOT_WEBHOOK_USER: 'cbot-relay',
    CBOT_WEBHOOK_PASS: 's3cr3t-pass',
    QUEUE_PREFIX: prefix,
    PORT: '0',
    // Any free port: test files run in parallel on one host, and 9464 may be taken.
    OPS_PORT: '0',
    DISPATCH_BACKOFF_BASE_MS: '20',
    DISPATCH_BACKOFF_MAX_MS: '200',
    // Short backoffs need more attempts to ride out the 1 s outages the tests inject.
    DISPATCH_MAX_ATTEMPTS: '100',
    CBOT_RATE_LIMIT: '100000',
    ...opts.env,
  };
  const config = loadConfig(env);
  const metrics = createMetrics();
  const relay = await startRelay({
    config,
    redisUrl: redis.url,
    log: opts.log ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics,
    host: '127.0.0.1',
  });
  const base = `http://127.0.0.1:${relay.port}`;
  sim.setWebhook(`${base}/webhooks/cbot`, { Authorization: BASIC });
  let closing: Promise<void> | undefined;
  return {
    redis,
    sim,
    relay,
    base,
    prefix: config.queuePrefix,
    env,
    metrics,
    callbacksTaken: async () => (await metrics.callbacks.get()).values[0]?.value ?? 0,
    send: (body, headers = {}) =>
      fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (id, key = API_KEY) => fetch(`${base}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } }),
    admin: (path, method = 'GET') => fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
    close: () =>
      (closing ??= (async () => {
        await relay.close();
        await sim.close();
        if (!opts.redis) await redis.close();
      })()),
  };
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
