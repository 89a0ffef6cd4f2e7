import type { ChannelConfig, RelayConfig } from '@cbot-relay/config';
import { ConfigError, channelsOf, requireChannelCbot } from '@cbot-relay/config';
import { NOOP_TRACING, OpsServer, gaugeFromSource, labelledGaugeFromSource } from '@cbot-relay/observability';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import { BulkJobAdder, INBOUND_JOB_OPTIONS, QueueNames, RelayEvents, ReplicaWait, closeRedis, createRedis, queueNameFor } from '@cbot-relay/queues';
import type { InboundJob, RedisClient } from '@cbot-relay/queues';
import { ConsoleSecret, MediaMissing, MessageStore, MinuteCounters, Outbound, PartitionsError, Recipients, RelayKeys, SubscriberStore, TemplateStore, resolvePartitions } from '@cbot-relay/records';
import type { Redis } from 'ioredis';
import { webhookHeaders } from './register-webhook.js';
import { WebhookRegistrar } from './webhook-registrar.js';
import type { RegistrarTimings } from './webhook-registrar.js';
import { startHistory } from './history.js';

export interface RelayOptions {
  config: RelayConfig;
  redisUrl: string;
  log: Logger;
  metrics: Metrics;
  /** OpenTelemetry (main.ts starts it when OTEL_* asks for it); default off. */
  tracing?: Tracing;
  now?: () => number;
  /** Host the HTTP servers (ingress and OPS_PORT) bind; tests use 127.0.0.1. */
  host?: string;
  /** Backoff and re-check period of the webhook registration; tests pass short ones. */
  webhookTimings?: Partial<RegistrarTimings>;
  /** How often an ingress looks at the shared template lists (ms); default 2 s. Tests pass short ones. */
  templatePollMs?: number;
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
  const tracing = opts.tracing ?? NOOP_TRACING;
  const settings = { url: opts.redisUrl, cluster: config.redis.cluster };
  const prefix = config.queuePrefix;
  const roles = new Set(config.roles);
  const closers: (() => Promise<unknown>)[] = [];
  const running: (() => boolean)[] = [];
  // False until every role is up (so /readyz never says ready before the ingress listens), and again from the first stop.
  let accepting = false;
  let webhook: () => 'registered' | 'pending' | 'not configured' = () => 'not configured';

  // Workers wait out a Redis restart; the HTTP side fails fast (503) instead of hanging callers.
  const workerRedis = createRedis(settings, { name: 'cbot-relay:workers' }) as Redis;
  const httpRedis = createRedis(settings, { name: 'cbot-relay:http', failFast: true }) as Redis;
  workerRedis.on('error', (err) => log.warn({ err }, 'redis (workers) error'));
  httpRedis.on('error', (err) => log.warn({ err }, 'redis (http) error'));
  await waitReady(httpRedis);

  const stop = async () => {
    accepting = false;
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => log.error({ err }, 'error while stopping'));
    }
    await Promise.all([closeRedis(workerRedis as RedisClient), closeRedis(httpRedis as RedisClient)]);
  };

  // How many partitions the outbound side has: fixed by the first relay on this Redis (partitions.ts).
  let partitions: number;
  try {
    partitions = await resolvePartitions(httpRedis, prefix, { configured: config.redis.partitions, cluster: config.redis.cluster });
  } catch (err) {
    await stop();
    if (err instanceof PartitionsError) throw new ConfigError(err.message);
    throw err;
  }
  const storeOpts = { prefix, recordTtlS: config.recordTtlS, partitions };
  // Orphan statuses (reconciliation) must outlast a lease plus the reconcile window.
  const orphanTtlS = Math.max(3_600, 2 * Math.ceil((config.cbot.timeoutMs + 10_000 + config.dispatch.reconcileWindowMs) / 1000));
  const workerStore = new MessageStore({ redis: workerRedis, ...storeOpts, orphanTtlS });
  const httpStore = new MessageStore({ redis: httpRedis, ...storeOpts });
  const outboundOpts = { ...storeOpts, backlogMax: config.ingress.backlogMax, backlogMaxBytes: config.ingress.backlogMaxBytes };
  const httpOutbound = new Outbound({ redis: httpRedis, ...outboundOpts });
  // WhatsApp's rules per channel and recipient (window, opt-outs), in the recipients' outbound partitions.
  const httpRecipients = new Recipients({ redis: httpRedis, prefix, partitions });
  // Subscribers live in Redis (admin API); SUBSCRIPTIONS_FILE seeds them at startup.
  const httpSubscribers = new SubscriberStore({ redis: httpRedis, prefix });

  // The configured CBOT channels (CHANNELS_FILE, or `default` from CBOT_*), and the one a send or callback names by default.
  const channels = channelsOf(config);
  const defaultChannel = channels.find((ch) => ch.isDefault)!.id;

  try {
    // Refused before anything listens: an ingress told to register a URL with no CBOT to register it with.
    const registering = channels.filter((ch) => ch.webhook.publicUrl !== undefined);
    if (roles.has('ingress') && registering.length > 0) for (const ch of registering) webhookCbot(ch);
    // Only a process that registers exposes relay_webhook_registered: a constant 0 from every other
    // process would look like a registration that never succeeds.
    else metrics.registry.removeSingleMetric('relay_webhook_registered');
    if (roles.has('ingress') || roles.has('dispatcher')) {
      await httpOutbound.setWeights(config.callerWeights);
      // A channel dropped from the configuration while messages wait on it would strand them: refuse.
      const known = new Set(channels.map((ch) => ch.id));
      const stranded = Object.entries(await httpOutbound.queuedByChannel()).filter(([id]) => !known.has(id));
      if (stranded.length > 0) {
        const list = stranded.map(([id, n]) => `"${id}" (${n} queued)`).join(', ');
        throw new ConfigError(`CHANNELS_FILE: channel ${list} still has queued messages; keep it configured until they are sent, expire or fail`);
      }
    }
    // Each role's code is loaded only by processes that run it: a smaller footprint per container.
    if (roles.has('dispatcher')) {
      const [{ CbotClient }, { Dispatcher, callbacksAppliedUpTo }] = await Promise.all([import('@cbot-relay/cbot-client'), import('@cbot-relay/dispatcher')]);
      const concurrency = config.dispatch.concurrency;
      // One client per channel (its base URL, API and key); one keep-alive socket per send in flight each.
      const clients = new Map(
        channels.map((ch) => [
          ch.id,
          new CbotClient({ ...requireChannelCbot(ch), api: ch.api, apiKeyHeader: ch.apiKeyHeader, timeoutMs: config.cbot.timeoutMs, connections: concurrency }),
        ]),
      );
      const client = clients.get(defaultChannel)!;
      const outbound = new Outbound({ redis: workerRedis, ...outboundOpts });
      const dlog = log.child({ role: 'dispatcher' });
      // channel.paused / channel.stopped go to the fanout through the inbound queue.
      const { Queue } = await import('bullmq');
      const eventQueue = new Queue(queueNameFor(QueueNames.inbound, config.redis.cluster), { connection: workerRedis, prefix });
      eventQueue.on('error', () => undefined);
      const events = new RelayEvents(eventQueue);
      const dispatcher = await Dispatcher.start({
        redis: workerRedis,
        concurrency,
        leaseMs: config.cbot.timeoutMs + 10_000,
        cbotTimeoutMs: config.cbot.timeoutMs,
        reconcileWindowMs: config.dispatch.reconcileWindowMs,
        // Statuses waiting in a fanout backlog still count: no resend until those from the window are applied.
        callbacksAppliedUpTo: callbacksAppliedUpTo(workerRedis, `${prefix}:${queueNameFor(QueueNames.inbound, config.redis.cluster)}`, now),
        ratePerSecond: config.cbot.rateLimitPerSecond,
        channels: channels.map((ch) => ({ id: ch.id, ratePerSecond: ch.rateLimitPerSecond, windowPolicy: ch.windowPolicy ?? config.rules.windowPolicy })),
        deps: {
          outbound,
          client,
          clients,
          now,
          log: dlog,
          metrics,
          tracing,
          emit: (event, nowMs) => events.emit(event, nowMs),
          policy: {
            maxAttempts: config.dispatch.maxAttempts,
            maxAgeMs: config.dispatch.maxAgeMs,
            baseMs: config.dispatch.backoffBaseMs,
            maxMs: config.dispatch.backoffMaxMs,
            throttleDefaultMs: 1_000,
            qualityPauseMs: config.dispatch.qualityPauseMs,
          },
        },
      });
      gaugeFromSource(metrics.inFlight, async () => dispatcher.inFlight);
      closers.push(async () => void (await Promise.all([...clients.values()].map((c) => c.close()))), () => dispatcher.close(), () => eventQueue.close());
      running.push(() => dispatcher.running);
    }
    if (roles.has('ingress') || roles.has('dispatcher')) {
      // 1 for each channel's current state (active, paused, stopped), read from Redis when scraped.
      labelledGaugeFromSource(metrics.channelState, async () => {
        const states = await Promise.all(channels.map((ch) => httpOutbound.gateState(ch.id, now())));
        return channels.flatMap((ch, i) => (['active', 'paused', 'stopped'] as const).map((state) => ({ labels: { channel: ch.id, state }, value: states[i]!.state === state ? 1 : 0 })));
      });
    }
    if (roles.has('ingress') || roles.has('fanout')) {
      const { seedSubscribers } = await import('@cbot-relay/fanout');
      const seeded = await seedSubscribers(httpSubscribers, config.subscriptionsFile, now());
      if (seeded.created.length + seeded.updated.length > 0) log.info(seeded, 'subscribers seeded from SUBSCRIPTIONS_FILE');
    }
    if (roles.has('fanout')) {
      const { startFanoutFromStore } = await import('@cbot-relay/fanout');
      const fanoutOutbound = new Outbound({ redis: workerRedis, ...outboundOpts });
      const workerTemplates = new TemplateStore({ redis: workerRedis, prefix });
      const fanout = await startFanoutFromStore({
        connection: workerRedis,
        prefix,
        cluster: config.redis.cluster,
        subscriberStore: new SubscriberStore({ redis: workerRedis, prefix }),
        store: workerStore,
        windowFallback: (relayId: string) => fanoutOutbound.fallbackAfterFailure(relayId, now()),
        rules: {
          recipients: new Recipients({ redis: workerRedis, prefix, partitions }),
          keywords: { optOut: config.rules.optOutKeywords, optIn: config.rules.optInKeywords },
        },
        protection: { outbound: new Outbound({ redis: workerRedis, ...outboundOpts }), qualityPauseMs: config.dispatch.qualityPauseMs },
        // A template changed status: every ingress reloads that channel's list at its next look.
        templatesChanged: (channel) => workerTemplates.markStale(channel),
        fanout: config.fanout,
        log: log.child({ role: 'fanout' }),
        metrics,
        tracing,
        now,
      });
      closers.push(() => fanout.close());
      running.push(() => fanout.running);
    }

    const history = await startHistory({ config, redis: workerRedis as RedisClient, prefix, partitions, roles, store: httpStore, log, metrics });
    closers.push(() => history.close());

    const answerMs = config.redis.answerTimeoutMs;
    const ready = async () => {
      // A frozen Redis never answers the ping: not ready after REDIS_ANSWER_TIMEOUT_MS (and the probe
      // gets its 503 well before its own timeout).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), answerMs / 2)));
      const pinged = await Promise.race([httpRedis.ping().then(() => true, () => false), late]).finally(() => clearTimeout(timer));
      const redisOk = pinged === true;
      const workersOk = running.every((r) => r());
      // The webhook is a detail, not a condition: a CBOT that cannot take our URL yet is no reason to
      // stop taking sends (they queue), and the registrar keeps trying.
      const checks: Record<string, boolean | string> = { redis: pinged, workers: workersOk, accepting };
      if (roles.has('ingress')) checks.webhook = webhook();
      return { ok: accepting && redisOk && workersOk, checks };
    };
    // Every process: how long Redis takes to answer this process, read when /metrics is scraped.
    gaugeFromSource(metrics.redisRtt, async () => {
      const started = performance.now();
      await httpRedis.ping();
      return (performance.now() - started) / 1000;
    });
    let ops: OpsServer | undefined;
    if (config.opsPort !== undefined) {
      ops = await OpsServer.listen({ port: config.opsPort, host: opts.host ?? config.host, metrics, ready, log, readyTimeoutMs: answerMs });
      const opened = ops;
      // Closed near the end: /readyz says "not ready" while the roles stop.
      closers.unshift(() => opened.close());
    }
    if (!roles.has('ingress')) {
      accepting = true;
      return handle(undefined, ops?.port, stop);
    }
    // Loaded only by processes that serve the API: express, the queue UI, the routes and BullMQ (the
    // inbound queue) are ~9 MB of heap a dispatcher-only process has no use for.
    const [{ DeadLetters, IngressServer, KeyRateLimiter, KeyRing, TemplateCatalog, consoleRoutes, createIngressApp, isMediaUpload, isMessageStream, queueUi }, { Queue }, { CbotClient }] = await Promise.all([
      import('@cbot-relay/ingress'),
      import('bullmq'),
      import('@cbot-relay/cbot-client'),
    ]);
    // Media goes through the channel's CBOT: one client per channel that has a base URL and key (a
    // channel without them answers media calls 503), with sockets enough for the concurrent uploads.
    const mediaCbot = new Map(
      channels.flatMap((ch) => {
        if (ch.baseUrl === undefined || ch.apiKey === undefined) return [];
        const client = new CbotClient({
          baseUrl: ch.baseUrl,
          apiKey: ch.apiKey,
          api: ch.api,
          apiKeyHeader: ch.apiKeyHeader,
          timeoutMs: config.cbot.timeoutMs,
          connections: config.media.maxConcurrentUploads * 2,
          mediaIdleTimeoutMs: config.media.idleTimeoutMs,
          mediaHost: ch.mediaHost,
        });
        closers.unshift(() => client.destroy());
        return [[ch.id, client] as const];
      }),
    );

    const inbound = new Queue(queueNameFor(QueueNames.inbound, config.redis.cluster), { connection: httpRedis, prefix });
    inbound.on('error', () => undefined);
    const inboundAdds = new BulkJobAdder<InboundJob>(inbound, 'cb', INBOUND_JOB_OPTIONS);
    const operatorEvents = new RelayEvents(inbound);
    closers.unshift(() => inbound.close());
    const ingressOn = roles.has('ingress');
    gaugeFromSource(metrics.backlog, async () => (await httpOutbound.backlog()).count);
    gaugeFromSource(metrics.oldestAge, async () => (await httpOutbound.oldestOpenAgeMs(now())) / 1000);
    labelledGaugeFromSource(metrics.pending, async () =>
      (await httpOutbound.pending()).map(({ caller, priority, count }) => ({ labels: { caller, priority }, value: count })),
    );
    // Subscriber dead letters are failed jobs of the subscriber queues in Redis: any ingress lists and
    // replays them through BullMQ's API, whichever process runs fanout.
    const { EventDeadLetters, SubscriberQueues, subscriberHealth, subscriberQueueName } = await import('@cbot-relay/fanout');
    const subscribers = (await httpSubscribers.snapshot()).subscribers;
    const subscriberQueues = new SubscriberQueues({
      connection: httpRedis,
      prefix,
      cluster: config.redis.cluster,
      pushMaxAttempts: config.fanout.pushMaxAttempts,
      dedupeTtlS: config.fanout.dedupeTtlS,
    });
    closers.unshift(() => subscriberQueues.close());
    const deadLetters = new EventDeadLetters({ queues: subscriberQueues, subscribers: async () => (await httpSubscribers.snapshot()).subscribers });
    // REDIS_WAIT_REPLICAS: the accept and the callback add are written on httpRedis, so WAIT goes there.
    const replicaWait = config.redis.waitReplicas > 0 ? new ReplicaWait(httpRedis as RedisClient, config.redis.waitReplicas, config.redis.waitTimeoutMs) : undefined;
    const replicated = replicaWait ? () => replicaWait.enough() : undefined;
    const keyLimiter = new KeyRateLimiter({ redis: httpRedis, prefix, ratePerSecond: config.ingress.perKeyRatePerSecond });
    // /admin/queues shows every BullMQ queue: inbound, and each subscriber's events.<name> / push.<name>
    // (those stored when this ingress started).
    const ui = queueUi({
      adminKeys: new KeyRing(config.adminKeys),
      queueNames: [
        queueNameFor(QueueNames.inbound, config.redis.cluster),
        ...subscribers.map((s) => subscriberQueueName(s, config.redis.cluster)),
      ],
      connection: httpRedis,
      prefix,
      write: config.queueUiWrite,
      now,
      log: log.child({ component: 'queue-ui' }),
    });
    closers.unshift(() => ui.close());
    // Each channel's template list, loaded from CBOT with the channel's key (one keep-alive socket each).
    const { CbotClient: TemplatesClient } = await import('@cbot-relay/cbot-client');
    const templateClients = channels.flatMap((ch) =>
      ch.baseUrl === undefined || ch.apiKey === undefined
        ? []
        : [[ch.id, new TemplatesClient({ baseUrl: ch.baseUrl, apiKey: ch.apiKey, api: ch.api, apiKeyHeader: ch.apiKeyHeader, timeoutMs: config.cbot.timeoutMs, connections: 1 })] as const],
    );
    const templates = new TemplateCatalog({
      store: new TemplateStore({ redis: httpRedis, prefix }),
      loaders: new Map(templateClients.map(([id, client]) => [id, () => client.listTemplates()])),
      refreshMs: config.ingress.templatesRefreshS * 1000,
      pollMs: opts.templatePollMs ?? 2_000,
      now,
      log: log.child({ component: 'templates' }),
      metrics,
    });
    closers.unshift(async () => {
      // A load in flight against a hanging CBOT would hold the stop for CBOT_TIMEOUT_MS: abort it.
      const closed = templates.close();
      await Promise.all(templateClients.map(([, client]) => client.destroy()));
      await closed;
    });
    // The first look before the ingress listens, so the first template sends are checked (bounded:
    // a CBOT that does not answer delays the start by at most 3 s, and sends then go unchecked).
    await Promise.race([templates.syncAll(), new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
    // One dead-letters facade for the admin API and the console.
    const adminDeadLetters = new DeadLetters({ store: httpStore, outbound: httpOutbound, events: deadLetters, now, log });
    const consoleUi = consoleRoutes({
      adminKeys: new KeyRing(config.adminKeys),
      secret: new ConsoleSecret(httpRedis, new RelayKeys(prefix)),
      store: httpStore,
      ...(history.reader ? { history: history.reader } : {}),
      outbound: httpOutbound,
      deadLetters: adminDeadLetters,
      counters: new MinuteCounters(httpRedis, new RelayKeys(prefix)),
      channelIds: channels.map((ch) => ch.id),
      channels: async () => {
        const queued = await httpOutbound.queuedByChannel();
        return Promise.all(
          channels.map(async (ch) => ({ id: ch.id, ratePerSecond: ch.rateLimitPerSecond, queued: queued[ch.id] ?? 0, pausedForMs: await httpOutbound.pausedForMs(ch.id) })),
        );
      },
      subscribers: async () => subscriberHealth(subscriberQueues, (await httpSubscribers.snapshot()).subscribers, now()),
      ...(registering.length > 0 ? { webhookRegistered: () => webhook() === 'registered' } : {}),
      ...(config.consoleRunbookUrl === undefined ? {} : { runbookUrl: config.consoleRunbookUrl }),
      now,
      log: log.child({ component: 'console' }),
    });
    const app = createIngressApp({
      log,
      metrics,
      tracing,
      templates,
      queueUi: ui.router,
      console: consoleUi,
      bodyBufferBytes: config.ingress.bodyBufferBytes,
      ops: { metrics, ready, adminKeys: new KeyRing(config.adminKeys), readyTimeoutMs: answerMs },
      send: {
        keys: new KeyRing(config.apiKeys),
        store: httpStore,
        outbound: httpOutbound,
        maxBodyBytes: config.ingress.maxBodyBytes,
        answerTimeoutMs: answerMs,
        ...(replicated ? { replicated } : {}),
        admit: (caller) => keyLimiter.admit(caller),
        now,
        log,
        metrics,
        adminKeys: new KeyRing(config.adminKeys),
        tracing,
        ...(history.reader ? { history: history.reader } : {}),
        templates,
        channels: {
          ids: channels.map((ch) => ch.id),
          defaultId: defaultChannel,
          allowed: new Map(config.apiKeys.flatMap((k) => (k.channels ? [[k.name, k.channels] as const] : []))),
          windowPolicy: new Map(channels.map((ch) => [ch.id, ch.windowPolicy ?? config.rules.windowPolicy])),
        },
      },
      recipients: {
        keys: new KeyRing(config.apiKeys),
        adminKeys: new KeyRing(config.adminKeys),
        recipients: httpRecipients,
        channels: {
          ids: channels.map((ch) => ch.id),
          defaultId: defaultChannel,
          allowed: new Map(config.apiKeys.flatMap((k) => (k.channels ? [[k.name, k.channels] as const] : []))),
        },
        now,
        log,
      },
      subscribers: { adminKeys: new KeyRing(config.adminKeys), store: httpSubscribers, now, log },
      channels: {
        adminKeys: new KeyRing(config.adminKeys),
        channels: channels.map((ch) => ({ id: ch.id, api: ch.api, rateLimit: ch.rateLimitPerSecond })),
        outbound: httpOutbound,
        qualityPauseMs: config.dispatch.qualityPauseMs,
        emit: (event, nowMs) => operatorEvents.emit(event, nowMs),
        now,
        log,
      },
      media: {
        cbot: mediaCbot,
        missing: new MediaMissing({ redis: httpRedis, prefix }),
        maxConcurrentUploads: config.media.maxConcurrentUploads,
        timeoutMs: config.media.timeoutMs,
      },
      admin: {
        adminKeys: new KeyRing(config.adminKeys),
        store: httpStore,
        outbound: httpOutbound,
        events: deadLetters,
        deadLetters: adminDeadLetters,
        now,
        log,
      },
      webhook: {
        basic: config.webhook.basic,
        appSecret: config.webhook.appSecret,
        maxBodyBytes: config.webhook.maxBodyBytes,
        answerTimeoutMs: answerMs,
        ...(replicated ? { replicated } : {}),
        channels: new Map(
          channels.map((ch) => [ch.id, { basic: ch.webhook.basic, appSecret: ch.webhook.appSecret, requireSignature: config.channelsFile !== undefined }]),
        ),
        defaultChannel,
        enqueue: async (raw, receivedAt, channel) => {
          // The request's trace rides with the job (BullMQ's telemetry metadata), one per job: adds
          // are batched, so the batch's own context would belong to whichever request came first.
          // Channel default's jobs look as they did before channels.
          const metadata = tracing.jobMetadata();
          await inboundAdds.add(channel === 'default' ? { raw, receivedAt } : { raw, receivedAt, channel }, metadata === undefined ? undefined : { telemetry: { metadata } });
        },
        now,
        log,
        metrics,
      },
    });
    const server = await IngressServer.listen(app, config.port, opts.host ?? config.host, {
      ...config.ingress,
      longBody: { matches: (req) => isMediaUpload(req) || isMessageStream(req), timeoutMs: config.media.timeoutMs, idleTimeoutMs: config.media.idleTimeoutMs },
      onDrop: () => metrics.connectionsDropped.inc(),
    });
    // Stop intake first: the server closes before any worker does.
    closers.push(() => server.close());
    const registrars: WebhookRegistrar[] = [];
    // One registrar per channel with a public URL; relay_webhook_registered is 1 only while CBOT holds every one.
    const held = new Map<string, number>();
    for (const ch of registering) {
      const { CbotClient } = await import('@cbot-relay/cbot-client');
      const { baseUrl, apiKey } = webhookCbot(ch);
      const client = new CbotClient({ baseUrl, apiKey, api: ch.api, apiKeyHeader: ch.apiKeyHeader, timeoutMs: config.cbot.timeoutMs, connections: 1 });
      const headers = webhookHeaders(ch.webhook.basic);
      held.set(ch.id, 0);
      const registrar = WebhookRegistrar.start({
        client,
        url: ch.webhook.publicUrl!,
        ...(headers ? { headers } : {}),
        log: log.child({ component: 'webhook-registrar', channel: ch.id }),
        gauge: {
          set: (v) => {
            held.set(ch.id, v);
            metrics.webhookRegistered.set(Math.min(...held.values()));
          },
        },
        ...(opts.webhookTimings ? { timings: opts.webhookTimings } : {}),
      });
      registrars.push(registrar);
      // Stopped before the server closes (closers run last-pushed first). A check in flight could
      // wait up to 2 × CBOT_TIMEOUT_MS on a hanging CBOT: abort it rather than spend the shutdown on it.
      closers.push(async () => {
        const stopped = registrar.close();
        await client.destroy();
        await stopped;
      });
    }
    if (registrars.length > 0) webhook = () => (registrars.every((r) => r.state === 'registered') ? 'registered' : 'pending');
    accepting = true;
    return handle(server.port, ops?.port, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

function webhookCbot(channel: ChannelConfig): { baseUrl: string; apiKey: string } {
  const { baseUrl, apiKey } = channel;
  if (baseUrl === undefined) throw new ConfigError('CBOT_BASE_URL: required to register PUBLIC_WEBHOOK_URL');
  if (apiKey === undefined) throw new ConfigError('CBOT_API_KEY: required to register PUBLIC_WEBHOOK_URL');
  return { baseUrl, apiKey };
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
