import { readFileSync } from 'node:fs';
import type { ChannelConfig } from './channels.js';
import { CHANNEL_ID, DEFAULT_CHANNEL, parseChannels } from './channels.js';
import type { NamedKey, Role, WindowPolicyValue } from './env-schema.js';
import { EnvSchema } from './env-schema.js';
import { tracingFromEnv } from './tracing-env.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface RelayConfig {
  /** `partitions`: OUTBOUND_PARTITIONS when set (the outbound side's split; Redis keeps the count: resolvePartitions). */
  redis: {
    url: string | undefined;
    cluster: boolean;
    partitions?: number | undefined;
    /** REDIS_ANSWER_TIMEOUT_MS: sends and callbacks are answered within this of their body arriving. */
    answerTimeoutMs: number;
    /** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: replicas a write must reach before its 202/200 (0: none). */
    waitReplicas: number;
    waitTimeoutMs: number;
  };
  port: number;
  /** Address the ingress listens on. */
  host: string;
  apiKeys: NamedKey[];
  adminKeys: NamedKey[];
  /** QUEUE_UI_WRITE: the /admin/queues UI may act on jobs and queues (retry, clean, pause…); off: read-only. */
  queueUiWrite: boolean;
  /** CONSOLE_RUNBOOK_URL: the published docs/operations.md the console's overview links alerts to. */
  consoleRunbookUrl: string | undefined;
  cbot: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    apiKeyHeader: string;
    timeoutMs: number;
    rateLimitPerSecond: number;
  };
  webhook: {
    appSecret: string | undefined;
    basic: { user: string; pass: string } | undefined;
    publicUrl: string | undefined;
    maxBodyBytes: number;
  };
  subscriptionsFile: string | undefined;
  /** CHANNELS_FILE's channels; undefined: the CBOT_* variables form the one channel `default` (channelsOf). */
  channelsFile: ChannelConfig[] | undefined;
  roles: Role[];
  queuePrefix: string;
  logLevel: string;
  /** `auto`: pretty on a terminal, JSON otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  dispatch: {
    concurrency: number;
    maxAttempts: number;
    maxAgeMs: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** QUALITY_PAUSE_S in ms: a channel's pause after 131048, doubling on a repeat within 24 h. */
    qualityPauseMs: number;
    /** RECONCILE_WINDOW_S in ms. */
    reconcileWindowMs: number;
  };
  ingress: {
    maxBodyBytes: number;
    backlogMax: number;
    backlogMaxBytes: number;
    perKeyRatePerSecond: number;
    /** Open connections the ingress holds at most; more are closed as they arrive. */
    maxConnections: number;
    headersTimeoutMs: number;
    /** Whole request, headers and body, received within this. */
    requestTimeoutMs: number;
    /** A body that sends nothing for this long is cut. */
    bodyIdleTimeoutMs: number;
    /** Request bodies being read at once, in bytes; a read that would pass it is 503. */
    bodyBufferBytes: number;
    /** TEMPLATES_REFRESH_S: a channel's template list older than this (s) is reloaded from CBOT. */
    templatesRefreshS: number;
  };
  media: {
    /** Uploads streamed through one ingress process at once; more are 429. */
    maxConcurrentUploads: number;
    /** A whole upload or download (every byte through) within this. */
    timeoutMs: number;
    /** An upload or download that moves no byte for this long is cut. */
    idleTimeoutMs: number;
  };
  /** Callers' shares of the send rate (RELAY_API_KEY_WEIGHTS); absent callers weigh 1. */
  callerWeights: Record<string, number>;
  /** The unauthenticated /healthz, /readyz, /metrics listener; undefined: off. 0: any free port. */
  opsPort: number | undefined;
  fanout: {
    concurrency: number;
    pushConcurrency: number;
    pushTimeoutMs: number;
    pushMaxAttempts: number;
    dedupeTtlS: number;
    /** Messages + statuses of one callback that get events of their own; the rest become one event. */
    callbackMaxItems: number;
    /** A sender contact is copied whole into events up to this many bytes of JSON. */
    contactMaxBytes: number;
    /** Default retention of each queue subscriber's waiting events (0 = unbounded); SUBSCRIPTIONS_FILE overrides. */
    subscriberMaxWaiting: number;
    subscriberMaxAgeS: number;
  };
  /** Retention (s) of message records, bodies and list indexes in Redis: MESSAGE_RETENTION_DAYS, or RECORD_TTL_S; HOT_RETENTION with the history store. */
  recordTtlS: number;
  /** HISTORY_DATABASE_URL: message history in PostgreSQL; Redis then keeps records for HOT_RETENTION only. */
  history?: { url: string; hotRetentionS: number } | undefined;
  shutdownTimeoutMs: number;
  /** OpenTelemetry tracing (the standard OTEL_* variables, see tracing-env.ts); off by default. */
  tracing: { enabled: boolean };
  /** WhatsApp's rules (docs/whatsapp-rules.md): WINDOW_POLICY (a channel's `windowPolicy` wins) and the opt-out keywords, case-folded. */
  rules: { windowPolicy: WindowPolicyValue; optOutKeywords: string[]; optInKeywords: string[] };
}

/**
 * Parses the environment once. The first bad variable stops startup with one message that names it;
 * values are never echoed for variables that may hold secrets.
 */
export function loadConfig(env: Record<string, string | undefined>): RelayConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const secret = /KEY|PASS|SECRET/.test(variable);
    const message = secret ? 'invalid value' : (issue?.message ?? 'invalid value');
    throw new ConfigError(`${variable}: ${message}`);
  }
  const e = parsed.data;
  if ((e.CBOT_WEBHOOK_USER === undefined) !== (e.CBOT_WEBHOOK_PASS === undefined)) {
    throw new ConfigError('CBOT_WEBHOOK_USER and CBOT_WEBHOOK_PASS: set both or neither');
  }
  // In Redis Cluster the record scripts and BullMQ need every relay key in one hash slot.
  let prefix = e.QUEUE_PREFIX;
  if (e.REDIS_CLUSTER && !/\{[^{}]+\}/.test(prefix)) {
    if (env.QUEUE_PREFIX !== undefined && env.QUEUE_PREFIX.trim() !== '') {
      throw new ConfigError(`QUEUE_PREFIX: with REDIS_CLUSTER on it must contain a hash tag, e.g. {${prefix}}`);
    }
    prefix = `{${prefix}}`;
  }
  if (e.INGRESS_REQUEST_TIMEOUT_MS < e.INGRESS_HEADERS_TIMEOUT_MS) {
    throw new ConfigError('INGRESS_REQUEST_TIMEOUT_MS: must be at least INGRESS_HEADERS_TIMEOUT_MS');
  }
  if (e.DISPATCH_BACKOFF_MAX_MS < e.DISPATCH_BACKOFF_BASE_MS) {
    throw new ConfigError('DISPATCH_BACKOFF_MAX_MS: must be at least DISPATCH_BACKOFF_BASE_MS');
  }
  let channelsFile: ChannelConfig[] | undefined;
  if (e.CHANNELS_FILE !== undefined) {
    let text: string;
    try {
      text = readFileSync(e.CHANNELS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`CHANNELS_FILE: cannot read ${e.CHANNELS_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      channelsFile = parseChannels(text, env);
    } catch (err) {
      throw new ConfigError(`CHANNELS_FILE: ${(err as Error).message}`);
    }
  }
  // A channel without its own windowPolicy follows WINDOW_POLICY.
  for (const ch of channelsFile ?? []) ch.windowPolicy ??= e.WINDOW_POLICY;
  const channelIds = channelsFile?.map((c) => c.id) ?? [DEFAULT_CHANNEL];
  return {
    redis: {
      url: e.REDIS_URL,
      cluster: e.REDIS_CLUSTER,
      partitions: e.OUTBOUND_PARTITIONS === 0 ? undefined : e.OUTBOUND_PARTITIONS,
      answerTimeoutMs: e.REDIS_ANSWER_TIMEOUT_MS,
      waitReplicas: e.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS,
    },
    port: e.PORT,
    host: e.HOST,
    apiKeys: withChannels(e.RELAY_API_KEYS, channelIds),
    adminKeys: e.RELAY_ADMIN_KEYS,
    queueUiWrite: e.QUEUE_UI_WRITE,
    consoleRunbookUrl: e.CONSOLE_RUNBOOK_URL,
    cbot: {
      baseUrl: e.CBOT_BASE_URL,
      apiKey: e.CBOT_API_KEY,
      apiKeyHeader: e.CBOT_API_KEY_HEADER,
      timeoutMs: e.CBOT_TIMEOUT_MS,
      rateLimitPerSecond: e.CBOT_RATE_LIMIT,
    },
    webhook: {
      appSecret: e.CBOT_APP_SECRET,
      basic:
        e.CBOT_WEBHOOK_USER !== undefined && e.CBOT_WEBHOOK_PASS !== undefined
          ? { user: e.CBOT_WEBHOOK_USER, pass: e.CBOT_WEBHOOK_PASS }
          : undefined,
      publicUrl: e.PUBLIC_WEBHOOK_URL,
      maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    },
    subscriptionsFile: e.SUBSCRIPTIONS_FILE,
    channelsFile,
    roles: e.RELAY_ROLES,
    queuePrefix: prefix,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    dispatch: {
      concurrency: e.DISPATCH_CONCURRENCY,
      maxAttempts: e.DISPATCH_MAX_ATTEMPTS,
      maxAgeMs: e.DISPATCH_MAX_AGE_S * 1000,
      backoffBaseMs: e.DISPATCH_BACKOFF_BASE_MS,
      backoffMaxMs: e.DISPATCH_BACKOFF_MAX_MS,
      qualityPauseMs: e.QUALITY_PAUSE_S * 1000,
      reconcileWindowMs: e.RECONCILE_WINDOW_S * 1000,
    },
    ingress: {
      maxBodyBytes: e.INGRESS_MAX_BODY_BYTES,
      backlogMax: e.OUTBOUND_BACKLOG_MAX,
      backlogMaxBytes: e.OUTBOUND_BACKLOG_MAX_BYTES,
      perKeyRatePerSecond: e.API_KEY_RATE_LIMIT,
      maxConnections: e.INGRESS_MAX_CONNECTIONS,
      headersTimeoutMs: e.INGRESS_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.INGRESS_REQUEST_TIMEOUT_MS,
      bodyIdleTimeoutMs: e.INGRESS_BODY_IDLE_TIMEOUT_MS,
      bodyBufferBytes: e.INGRESS_BODY_BUFFER_BYTES,
      templatesRefreshS: e.TEMPLATES_REFRESH_S,
    },
    media: {
      maxConcurrentUploads: e.MEDIA_MAX_CONCURRENT_UPLOADS,
      timeoutMs: e.MEDIA_TIMEOUT_MS,
      idleTimeoutMs: e.MEDIA_IDLE_TIMEOUT_MS,
    },
    callerWeights: e.RELAY_API_KEY_WEIGHTS,
    opsPort: e.OPS_PORT,
    fanout: {
      concurrency: e.FANOUT_CONCURRENCY,
      pushConcurrency: e.PUSH_CONCURRENCY,
      pushTimeoutMs: e.PUSH_TIMEOUT_MS,
      pushMaxAttempts: e.PUSH_MAX_ATTEMPTS,
      dedupeTtlS: e.EVENT_DEDUPE_TTL_S,
      callbackMaxItems: e.CALLBACK_MAX_ITEMS,
      contactMaxBytes: e.EVENT_CONTACT_MAX_BYTES,
      subscriberMaxWaiting: e.SUBSCRIBER_MAX_WAITING,
      subscriberMaxAgeS: e.SUBSCRIBER_MAX_AGE_S,
    },
    recordTtlS: e.HISTORY_DATABASE_URL === undefined ? e.RECORD_TTL_S || e.MESSAGE_RETENTION_DAYS * 86_400 : e.HOT_RETENTION,
    history: e.HISTORY_DATABASE_URL === undefined ? undefined : { url: e.HISTORY_DATABASE_URL, hotRetentionS: e.HOT_RETENTION },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    tracing: tracingFromEnv(env),
    rules: { windowPolicy: e.WINDOW_POLICY, optOutKeywords: e.OPT_OUT_KEYWORDS, optInKeywords: e.OPT_IN_KEYWORDS },
  };
}

/** The dispatcher cannot start without a CBOT to talk to; the other roles can. */
export function requireCbot(config: RelayConfig): { baseUrl: string; apiKey: string } {
  if (config.cbot.baseUrl === undefined) throw new ConfigError('CBOT_BASE_URL: required by the dispatcher role');
  if (config.cbot.apiKey === undefined) throw new ConfigError('CBOT_API_KEY: required by the dispatcher role');
  return { baseUrl: config.cbot.baseUrl, apiKey: config.cbot.apiKey };
}

/**
 * `name:key:a|b` limits a key to channels a and b. A key may itself hold `:`, so the part after the
 * last `:` is a channel list only when it reads as one; then every channel it names must exist.
 */
function withChannels(keys: NamedKey[], channelIds: string[]): NamedKey[] {
  return keys.map((k) => {
    const at = k.key.lastIndexOf(':');
    if (at < 8) return k;
    const list = k.key.slice(at + 1).split('|');
    if (!list.every((id) => CHANNEL_ID.test(id))) return k;
    const unknown = list.find((id) => !channelIds.includes(id));
    // Without CHANNELS_FILE only `default` exists: anything else is part of an older key, as before.
    if (unknown !== undefined) {
      if (channelIds.length === 1 && channelIds[0] === DEFAULT_CHANNEL) return k;
      throw new ConfigError(`RELAY_API_KEYS: key "${k.name}" lists channel "${unknown}", which CHANNELS_FILE does not define`);
    }
    return { name: k.name, key: k.key.slice(0, at), channels: [...new Set(list)] };
  });
}

/** The relay's channels: CHANNELS_FILE's, or the one `default` channel the CBOT_* variables form. */
export function channelsOf(config: RelayConfig): ChannelConfig[] {
  if (config.channelsFile !== undefined) return config.channelsFile;
  return [
    {
      id: DEFAULT_CHANNEL,
      api: 'onprem',
      baseUrl: config.cbot.baseUrl,
      apiKey: config.cbot.apiKey,
      apiKeyHeader: config.cbot.apiKeyHeader,
      rateLimitPerSecond: config.cbot.rateLimitPerSecond,
      webhook: { basic: config.webhook.basic, appSecret: config.webhook.appSecret, publicUrl: config.webhook.publicUrl },
      isDefault: true,
      windowPolicy: config.rules.windowPolicy,
      mediaHost: 'cdn',
    },
  ];
}

/** A channel the dispatcher can send on: base URL and key present. */
export function requireChannelCbot(channel: ChannelConfig): { baseUrl: string; apiKey: string } {
  const from = channel.id === DEFAULT_CHANNEL && channel.baseUrl === undefined ? 'CBOT_BASE_URL' : `channel "${channel.id}" baseUrl`;
  if (channel.baseUrl === undefined) throw new ConfigError(`${from}: required by the dispatcher role`);
  if (channel.apiKey === undefined) throw new ConfigError(`${channel.id === DEFAULT_CHANNEL ? 'CBOT_API_KEY' : `channel "${channel.id}" apiKey`}: required by the dispatcher role`);
  return { baseUrl: channel.baseUrl, apiKey: channel.apiKey };
}
