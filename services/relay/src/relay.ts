import { Queue } from 'bullmq';
import type { RelayConfig } from '@cbot-relay/config';
import { requireCbot } from '@cbot-relay/config';
import { IngressServer, KeyRateLimiter, KeyRing, createIngressApp } from '@cbot-relay/ingress';
import { OpsServer, gaugeFromSource } from '@cbot-relay/observability';
import type { Logger, Metrics } from '@cbot-relay/observability';
import { BatchedJobAdder, INBOUND_JOB_OPTIONS, OutboundLanes, QueueNames, assertLaneCount, closeRedis, createRedis, queueNameFor } from '@cbot-relay/queues';
import type { InboundJob, RedisClient } from '@cbot-relay/queues';
import { MessageStore, SendGate } from '@cbot-relay/records';
import type { Redis } from 'ioredis';
import { cachedBacklog } from './backlog-cache.js';

export interface RelayOptions {
  config: RelayConfig;
  redisUrl: string;
  log: Logger;
  metrics: Metrics;
  now?: () => number;
  /** Host the HTTP servers (ingress and OPS_PORT) bind; tests use 127.0.0.1. */
  host?: string;
}

export interface Relay {
  /** The bound HTTP port, when this process serves HTTP. */
  port: number | undefined;
  /** The bound OPS_PORT (/healthz, /readyz, /metrics), unless it is off. */
  opsPort: number | undefined;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Runs the roles `config.roles` names in this process and returns one handle that stops them in order. */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const { config, log, metrics } = opts;
  const now = opts.now ?? Date.now;
  const settings = { url: opts.redisUrl, cluster: config.redis.cluster };
  const prefix = config.queuePrefix;
  const roles = new Set(config.roles);
  const closers: (() => Promise<unknown>)[] = [];
  const running: (() => boolean)[] = [];
  let accepting = true;

  // Workers wait out a Redis restart; the HTTP side fails fast (503) instead of hanging callers.
  const workerRedis = createRedis(settings, { name: 'cbot-relay:workers' }) as Redis;
  const httpRedis = createRedis(settings, { name: 'cbot-relay:http', failFast: true }) as Redis;
  workerRedis.on('error', (err) => log.warn({ err }, 'redis (workers) error'));
  httpRedis.on('error', (err) => log.warn({ err }, 'redis (http) error'));
  await waitReady(httpRedis);

  const storeOpts = { prefix, recordTtlS: config.recordTtlS };
  const workerStore = new MessageStore({ redis: workerRedis, ...storeOpts });
  const httpStore = new MessageStore({ redis: httpRedis, ...storeOpts });
  const httpLanes = new OutboundLanes({ connection: httpRedis, prefix, lanes: config.dispatch.lanes, cluster: config.redis.cluster });

  const stop = async () => {
    accepting = false;
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => log.error({ err }, 'error while stopping'));
    }
    await httpLanes.close();
    await Promise.all([closeRedis(workerRedis as RedisClient), closeRedis(httpRedis as RedisClient)]);
  };

  try {
    if (roles.has('ingress') || roles.has('dispatcher')) await assertLaneCount(httpRedis, prefix, config.dispatch.lanes);
    let deadLetters;
    // Each role's code is loaded only by processes that run it: a smaller footprint per container.
    if (roles.has('dispatcher')) {
      const [{ CbotClient }, { LaneWorkers, OrphanSweeper }] = await Promise.all([
        import('@cbot-relay/cbot-client'),
        import('@cbot-relay/dispatcher'),
      ]);
      const cbot = requireCbot(config);
      const client = new CbotClient({ ...cbot, apiKeyHeader: config.cbot.apiKeyHeader, timeoutMs: config.cbot.timeoutMs });
      const workerLanes = new OutboundLanes({ connection: workerRedis, prefix, lanes: config.dispatch.lanes, cluster: config.redis.cluster });
      const gate = new SendGate({ redis: workerRedis, prefix, ratePerSecond: config.cbot.rateLimitPerSecond });
      const workers = await LaneWorkers.start({
        connection: workerRedis,
        prefix,
        lanes: workerLanes,
        lockDurationMs: config.cbot.timeoutMs + 10_000,
        log: log.child({ role: 'dispatcher' }),
        deps: {
          store: workerStore,
          gate,
          client,
          now,
          log: log.child({ role: 'dispatcher' }),
          metrics,
          policy: {
            maxAttempts: config.dispatch.maxAttempts,
            maxAgeMs: config.dispatch.maxAgeMs,
            baseMs: config.dispatch.backoffBaseMs,
            maxMs: config.dispatch.backoffMaxMs,
            throttleDefaultMs: 1_000,
            maxGateWaitMs: 1_000,
          },
        },
      });
      const sweeper = new OrphanSweeper({ store: workerStore, lanes: workerLanes, redis: workerRedis, prefix, log: log.child({ role: 'dispatcher' }), now }).start();
      closers.push(() => client.close(), () => workerLanes.close(), () => workers.close(), () => sweeper.close());
      running.push(() => workers.running);
    }
    if (roles.has('fanout')) {
      const { loadSubscriptions, startFanout } = await import('@cbot-relay/fanout');
      const fanout = await startFanout({
        connection: workerRedis,
        prefix,
        cluster: config.redis.cluster,
        subscriptions: loadSubscriptions(config.subscriptionsFile),
        store: workerStore,
        fanout: config.fanout,
        log: log.child({ role: 'fanout' }),
        metrics,
        now,
      });
      deadLetters = fanout.deadLetters;
      closers.push(() => fanout.close());
      running.push(() => fanout.running);
    }

    const ready = async () => {
      const redisOk = await httpRedis.ping().then(() => true, () => false);
      const workersOk = running.every((r) => r());
      return { ok: accepting && redisOk && workersOk, checks: { redis: redisOk, workers: workersOk, accepting } };
    };
    let ops: OpsServer | undefined;
    if (config.opsPort !== undefined) {
      ops = await OpsServer.listen({ port: config.opsPort, host: opts.host ?? config.host, metrics, ready, log });
      const opened = ops;
      // Closed near the end: /readyz says "not ready" while the roles stop.
      closers.unshift(() => opened.close());
    }
    if (!roles.has('ingress')) return handle(undefined, ops?.port, stop);

    const inbound = new Queue(queueNameFor(QueueNames.inbound, config.redis.cluster), { connection: httpRedis, prefix });
    inbound.on('error', () => undefined);
    const inboundAdds = new BatchedJobAdder<InboundJob>(httpRedis, inbound, 'cb', INBOUND_JOB_OPTIONS);
    closers.unshift(() => inbound.close());
    gaugeFromSource(metrics.backlog, () => httpStore.backlog());
    const keyLimiter = new KeyRateLimiter(config.ingress.perKeyRatePerSecond);
    const app = createIngressApp({
      log,
      metrics,
      bodyBufferBytes: config.ingress.bodyBufferBytes,
      ops: { metrics, ready, adminKeys: new KeyRing(config.adminKeys) },
      send: {
        keys: new KeyRing(config.apiKeys),
        store: httpStore,
        lanes: httpLanes,
        maxBodyBytes: config.ingress.maxBodyBytes,
        backlog: cachedBacklog(() => httpStore.backlog(), now),
        backlogMax: config.ingress.backlogMax,
        admit: (caller) => keyLimiter.admit(caller),
        now,
        log,
        metrics,
      },
      admin: {
        adminKeys: new KeyRing(config.adminKeys),
        store: httpStore,
        lanes: httpLanes,
        ...(deadLetters ? { events: deadLetters } : {}),
        now,
        log,
      },
      webhook: {
        basic: config.webhook.basic,
        appSecret: config.webhook.appSecret,
        maxBodyBytes: config.webhook.maxBodyBytes,
        enqueue: async (raw, receivedAt) => {
          await inboundAdds.add({ raw, receivedAt });
        },
        now,
        log,
        metrics,
      },
    });
    const server = await IngressServer.listen(app, config.port, opts.host ?? config.host, {
      ...config.ingress,
      onDrop: () => metrics.connectionsDropped.inc(),
    });
    // Stop intake first: the server closes before any worker does.
    closers.push(() => server.close());
    return handle(server.port, ops?.port, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

function handle(port: number | undefined, opsPort: number | undefined, stop: () => Promise<void>): Relay {
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= stop());
  return { port, opsPort, close, [Symbol.asyncDispose]: close };
}

async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Redis not reachable within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
