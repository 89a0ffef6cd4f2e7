import { CbotClient } from '@cbot-relay/cbot-client';
import type { ChannelConfig, RelayConfig } from '@cbot-relay/config';
import { channelsOf, requireChannelCbot } from '@cbot-relay/config';
import { EventDeadLetters, SubscriberQueues } from '@cbot-relay/fanout';
import type { Subscriber } from '@cbot-relay/fanout';
import { DEFAULT_REDIS_URL, closeRedis, createRedis } from '@cbot-relay/queues';
import type { RedisClient } from '@cbot-relay/queues';
import { MessageStore, Outbound, PartitionsError, SubscriberStore, resolvePartitions } from '@cbot-relay/records';
import type { SubscriberRecord } from '@cbot-relay/records';
import { EXIT, notFound, unreachable, usageError } from './cli-error.js';
import type { ExitCode } from './cli-error.js';

/** Where command output goes; tests and `main` pass the process's streams. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  now: () => number;
}

/**
 * What the commands work on, built on first use from the relay's own configuration: a command that
 * only talks to CBOT never connects to Redis, and the other way round. `close()` releases all of it.
 */
export class CliContext {
  readonly config: RelayConfig;
  readonly io: CliIo;
  /** Set by a command that printed its result but did not fully succeed (e.g. some replays failed). */
  exitCode: ExitCode = EXIT.ok;
  #redis: Promise<RedisClient> | undefined;
  #client: RedisClient | undefined;
  #queues: SubscriberQueues | undefined;
  readonly #cbot = new Map<string, CbotClient>();
  #partitions: Promise<number> | undefined;

  constructor(config: RelayConfig, io: CliIo) {
    this.config = config;
    this.io = io;
  }

  /** Connected, or exit 4 naming the URL's host (never its password). */
  redis(): Promise<RedisClient> {
    this.#redis ??= connect(this.config, (c) => (this.#client = c));
    return this.#redis;
  }

  async store(): Promise<MessageStore> {
    return new MessageStore(await this.#outboundOpts());
  }

  async outbound(): Promise<Outbound> {
    return new Outbound(await this.#outboundOpts());
  }

  /** The outbound partitions the relay uses (Redis keeps the count; the CLI never sets it). */
  async #outboundOpts() {
    const redis = await this.redis();
    const { queuePrefix: prefix, recordTtlS, redis: r } = this.config;
    this.#partitions ??= resolvePartitions(redis, prefix, { configured: r.partitions, cluster: r.cluster, readOnly: true }).catch((err: unknown) => {
      throw err instanceof PartitionsError ? usageError(err.message) : err;
    });
    return { redis, prefix, recordTtlS, partitions: await this.#partitions };
  }

  /**
   * The relay's subscribers as every fanout serves them: the subscriber store in Redis (seeded from
   * SUBSCRIPTIONS_FILE when a relay starts, changed by the admin API). Entries that do not parse are skipped.
   */
  async subscribers(): Promise<readonly SubscriberRecord[]> {
    return (await (await this.subscriberStore()).snapshot()).subscribers;
  }

  async subscriberStore(): Promise<SubscriberStore> {
    return new SubscriberStore({ redis: await this.redis(), prefix: this.config.queuePrefix });
  }

  async subscriberQueues(): Promise<SubscriberQueues> {
    this.#queues ??= new SubscriberQueues({
      connection: await this.redis(),
      prefix: this.config.queuePrefix,
      cluster: this.config.redis.cluster,
      pushMaxAttempts: this.config.fanout.pushMaxAttempts,
      dedupeTtlS: this.config.fanout.dedupeTtlS,
    });
    return this.#queues;
  }

  async eventDeadLetters(): Promise<EventDeadLetters> {
    return new EventDeadLetters({ queues: await this.subscriberQueues(), subscribers: () => this.subscribers() });
  }

  /**
   * A configured channel (CHANNELS_FILE, or `default` from the CBOT_* variables); the default channel
   * when `id` is undefined. Exit 3 naming the channels for an unknown id.
   */
  channel(id: string | undefined): ChannelConfig {
    const all = channelsOf(this.config);
    const found = id === undefined ? all.find((ch) => ch.isDefault) : all.find((ch) => ch.id === id);
    if (!found) throw notFound(`no channel ${JSON.stringify(id)} (channels: ${all.map((ch) => ch.id).join(', ')})`);
    return found;
  }

  /** CBOT of one channel; exit 2 naming what is missing (CBOT_BASE_URL / CBOT_API_KEY, or the channel's field). */
  cbot(channel: ChannelConfig): CbotClient {
    let cbot: { baseUrl: string; apiKey: string };
    try {
      cbot = requireChannelCbot(channel);
    } catch (err) {
      throw usageError(err instanceof Error ? err.message.replace(/: required by the dispatcher role$/, ': required to talk to CBOT') : String(err));
    }
    let client = this.#cbot.get(channel.id);
    if (!client) {
      client = new CbotClient({ ...cbot, api: channel.api, apiKeyHeader: channel.apiKeyHeader, timeoutMs: this.config.cbot.timeoutMs, connections: 1, mediaHost: channel.mediaHost, mediaIdleTimeoutMs: this.config.media.idleTimeoutMs });
      this.#cbot.set(channel.id, client);
    }
    return client;
  }

  /** Idempotent; every step runs even if one fails. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#queues?.close(), ...[...this.#cbot.values()].map((c) => c.close())]);
    if (this.#client) await closeRedis(this.#client).catch(() => undefined);
  }
}

/** How long a connection may take before the CLI gives up (exit 4). */
const CONNECT_TIMEOUT_MS = 5_000;

async function connect(config: RelayConfig, keep: (c: RedisClient) => void): Promise<RedisClient> {
  const url = config.redis.url ?? DEFAULT_REDIS_URL;
  // Fail fast: a command against a Redis that is down must say so, not wait for it.
  const client = createRedis({ url, cluster: config.redis.cluster }, { failFast: true, name: 'cbot-relay:cli' });
  keep(client);
  const where = safeHost(url);
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      client.disconnect();
      reject(unreachable(`cannot reach Redis at ${where}: ${why}`));
    };
    const onError = (err: Error) => fail(err.message || err.name);
    const onReady = () => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    const timer = setTimeout(() => fail(`no answer within ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    client.once('error', onError);
    client.once('ready', onReady);
  });
  // Later errors surface on the command that fails; the listener keeps them off the console.
  client.on('error', () => undefined);
  return client;
}

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'REDIS_URL';
  }
}
