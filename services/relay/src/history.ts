import type { RelayConfig } from '@cbot-relay/config';
import { HistoryDb, HistoryWriter, MessageHistory } from '@cbot-relay/history';
import type { Logger, Metrics } from '@cbot-relay/observability';
import { gaugeFromSource } from '@cbot-relay/observability';
import type { RedisClient } from '@cbot-relay/queues';
import type { MessageStore } from '@cbot-relay/records';
import { HistoryFeed, MessageRecord } from '@cbot-relay/records';

export interface HistoryRole {
  /** Reads across Redis and PostgreSQL for the ingress; undefined without HISTORY_DATABASE_URL. */
  reader?: MessageHistory<MessageRecord>;
  close(): Promise<void>;
}

/**
 * The message history (HISTORY_DATABASE_URL). Every process sets Redis's marking on or off to match
 * its configuration (so a set nobody drains never grows); with the store on, a process that serves
 * the API or runs fanout migrates the schema (node-pg-migrate's lock makes that once), fanout
 * processes run the writer, and the ingress reads through it.
 */
export async function startHistory(o: {
  config: RelayConfig;
  redis: RedisClient;
  prefix: string;
  partitions: number;
  roles: ReadonlySet<string>;
  store: MessageStore;
  log: Logger;
  metrics: Metrics;
}): Promise<HistoryRole> {
  const feed = new HistoryFeed({ redis: o.redis, prefix: o.prefix, partitions: o.partitions });
  await feed.enable(o.config.history !== undefined);
  if (o.config.history === undefined || !(o.roles.has('ingress') || o.roles.has('fanout'))) return { close: async () => undefined };

  const log = o.log.child({ component: 'history' });
  const db = new HistoryDb({ url: o.config.history.url });
  try {
    await db.migrate((msg) => log.info(msg));
  } catch (err) {
    await db.close();
    throw err;
  }
  let writer: HistoryWriter | undefined;
  if (o.roles.has('fanout')) {
    const sources = feed.partitions();
    writer = new HistoryWriter({
      db,
      sources,
      onWritten: (n) => o.metrics.historyWritten.inc(n),
      onError: (err) => {
        o.metrics.historyErrors.inc();
        log.warn({ err }, 'history write failed; retrying');
      },
    });
    writer.start();
    gaugeFromSource(o.metrics.historyLag, async () => {
      const now = Date.now();
      const lags = await Promise.all(sources.map((s) => s.lagMs(now)));
      return Math.max(0, ...lags) / 1000;
    });
  }
  // A row is read back as the record the writer copied; one written by a newer release may carry more
  // fields (they are dropped, as Redis's reader drops unknown ones).
  const parse = (row: unknown) => {
    const r = MessageRecord.safeParse(row);
    return r.success ? r.data : undefined;
  };
  const reader = o.roles.has('ingress') ? new MessageHistory<MessageRecord>({ get: (id) => o.store.get(id), list: (q) => o.store.list(q) }, db, parse) : undefined;
  return {
    ...(reader ? { reader } : {}),
    close: async () => {
      await writer?.close();
      await db.close();
    },
  };
}
