import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig } from '@cbot-relay/config';
import { NOOP_TRACING, chooseLogFormat, createLogger, createMetrics, startTracing } from '@cbot-relay/observability';
import { RedisMissingError, ensureRedis } from './ensure-redis.js';
import { startRelay } from './relay.js';

// undici parses HTTP with llhttp compiled to WebAssembly. V8 first compiles it with Liftoff, then
// recompiles the hot parser function with TurboFan once responses flow, and that compile takes
// 25-45 MB of native memory for a moment: it was the dispatcher's peak RSS (bench: 149 MB against
// ~125 MB steady). Liftoff alone parses the small CBOT answers at no measurable CPU cost. Set here,
// before anything compiles WebAssembly (the flag is not allowed in NODE_OPTIONS).
setFlagsFromString('--liftoff-only');

/**
 * The composition root: read config once, build real dependencies, start the roles, and stop them in
 * order on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cbot-relay: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Off (the default): the OpenTelemetry SDK is never loaded, and log lines get no mixin.
  const tracing = config.tracing.enabled ? await startTracing({ serviceName: 'cbot-relay', attributes: { 'cbot_relay.roles': config.roles.join(',') } }) : NOOP_TRACING;
  const tty = process.stdout.isTTY === true;
  const log = createLogger({
    level: config.logLevel,
    format: chooseLogFormat(config.logFormat, tty),
    colorize: tty,
    ...(tracing.enabled ? { mixin: () => tracing.logFields() } : {}),
  });
  if (tracing.enabled) log.info('OpenTelemetry tracing on (OTLP/HTTP JSON)');
  const metrics = createMetrics();

  let redis;
  try {
    redis = await ensureRedis(config.redis.url, log);
  } catch (err) {
    if (err instanceof RedisMissingError) {
      log.fatal(err.message);
      process.exit(1);
    }
    throw err;
  }

  const roles = new Set(config.roles);
  let sim: { close(): Promise<void> } | undefined;
  // With CHANNELS_FILE every channel names its own CBOT: no bundled simulator.
  if (config.channelsFile === undefined && config.cbot.baseUrl === undefined && (roles.has('dispatcher') || roles.has('ingress'))) {
    const { DEV_SIM_API_KEY, startDevSim } = await import('./dev-sim.js');
    const apiKey = config.cbot.apiKey ?? DEV_SIM_API_KEY;
    const started = await startDevSim(Number(process.env.SIM_PORT ?? 9090), apiKey, log);
    sim = started.sim;
    config.cbot.baseUrl = started.baseUrl;
    config.cbot.apiKey = apiKey;
    if (roles.has('ingress')) config.webhook.publicUrl ??= `http://127.0.0.1:${config.port}/webhooks/cbot`;
    log.info({ url: started.baseUrl }, 'no CBOT_BASE_URL: sending to the bundled CBOT simulator');
  }
  if (config.channelsFile === undefined && config.webhook.basic === undefined && roles.has('ingress')) {
    log.warn('CBOT_WEBHOOK_USER/CBOT_WEBHOOK_PASS unset: CBOT callbacks are not authenticated');
  }
  for (const ch of config.channelsFile ?? []) {
    if (ch.webhook.basic === undefined && ch.webhook.appSecret === undefined && roles.has('ingress')) {
      log.warn({ channel: ch.id }, 'channel has neither webhookUser/webhookPass nor appSecret: its callbacks are not authenticated');
    }
  }

  const relay = await startRelay({ config, redisUrl: redis.url, log, metrics, tracing });
  log.info({ roles: config.roles, port: relay.port, opsPort: relay.opsPort }, 'cbot-relay started');
  if (roles.has('ingress')) {
    const key = config.apiKeys[0] ? '<your RELAY_API_KEYS key>' : '<set RELAY_API_KEYS first>';
    log.info(
      `try: curl -si http://127.0.0.1:${relay.port}/v1/messages -H 'Authorization: Bearer ${key}' ` +
        `-H 'Content-Type: application/json' -d '{"to":"905551112233","type":"text","text":{"body":"hello"}}'`,
    );
  }
  if (roles.has('ingress') && config.apiKeys.length === 0) {
    log.warn('RELAY_API_KEYS unset: the send API refuses every call until keys are configured');
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work, finishing in-flight work');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline passed; exiting with work possibly in flight (retried after its lease; a CBOT answer not yet written is reconciled from its status callback, see docs/resilience.md)');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    void (async () => {
      await relay.close();
      await sim?.close();
      // Spans of the work just finished are exported before the process goes.
      await tracing.shutdown();
      if (redis.child && redis.child.exitCode === null) {
        const gone = new Promise((r) => redis.child?.once('exit', r));
        redis.child.kill('SIGTERM');
        await gone;
      }
      log.info('stopped');
      log.flush();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`cbot-relay: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
