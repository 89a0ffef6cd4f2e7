import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

/** The columns lists and usage filter on; the rest of the record rides along as JSON. */
export interface HistoryRecord {
  id: string;
  caller: string;
  channel: string;
  to: string;
  status: string;
  tag?: string;
  createdAt: string;
  updatedAt: string;
  pricing?: { category?: string; type?: string } & Record<string, unknown>;
  [field: string]: unknown;
}

/** Where a page ended: as the Redis list's cursor, so one cursor spans both stores. */
export interface HistoryCursor {
  atMs: number;
  id: string;
}

export interface HistoryQuery {
  caller?: string;
  to?: string;
  status?: string;
  tag?: string;
  channel?: string;
  /** Accepted at or after (ms). */
  sinceMs?: number;
  /** Accepted before (ms). */
  untilMs?: number;
  limit: number;
  cursor?: HistoryCursor;
}

export interface HistoryPage {
  records: HistoryRecord[];
  next?: HistoryCursor;
}

export interface UsageRow {
  caller: string;
  channel: string;
  category: string;
  type: string;
  count: number;
}

/** The migrations shipped with the relay (SQL, node-pg-migrate's format), beside src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const MIGRATIONS_TABLE = 'cbot_relay_migrations';

/**
 * The message history in PostgreSQL: rows upserted by relay id (a replay of the same record, or a
 * record written again after a crash, changes the row, never adds one; an older version never
 * overwrites a newer one), read by id and listed newest first with the Redis list's cursor.
 */
export class HistoryDb {
  readonly #pool: pg.Pool;
  #closed: Promise<void> | undefined;

  constructor(opts: { url: string; max?: number }) {
    this.#pool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 4 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.#pool.on('error', () => undefined);
  }

  /**
   * Brings the schema up to date. node-pg-migrate takes an advisory lock and the others wait for it,
   * so processes starting together run each migration once.
   */
  async migrate(log: (msg: string) => void = () => undefined): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await runner({
        dbClient: client,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        migrationsTable: MIGRATIONS_TABLE,
        checkOrder: true,
        advisoryLockMode: 'wait',
        log,
        logger: { debug: () => undefined, info: log, warn: log, error: log },
      });
    } finally {
      client.release();
    }
  }

  /** Writes each record's latest version; a row already newer (updatedAt) is left alone. */
  async upsert(batch: HistoryRecord[]): Promise<void> {
    // One row per id and statement (Postgres refuses to update a row twice in one INSERT): the newest.
    const latest = new Map<string, HistoryRecord>();
    for (const r of batch) {
      const had = latest.get(r.id);
      if (had === undefined || had.updatedAt <= r.updatedAt) latest.set(r.id, r);
    }
    const records = [...latest.values()];
    if (records.length === 0) return;
    const cols = { id: [] as string[], caller: [] as string[], channel: [] as string[], recipient: [] as string[], status: [] as string[] };
    const tags: (string | null)[] = [];
    const created: string[] = [];
    const updated: string[] = [];
    const categories: (string | null)[] = [];
    const types: (string | null)[] = [];
    const json: string[] = [];
    for (const r of records) {
      cols.id.push(r.id);
      cols.caller.push(r.caller);
      cols.channel.push(r.channel);
      cols.recipient.push(r.to);
      cols.status.push(r.status);
      tags.push(r.tag ?? null);
      created.push(r.createdAt);
      updated.push(r.updatedAt);
      categories.push(typeof r.pricing?.category === 'string' ? r.pricing.category : null);
      types.push(typeof r.pricing?.type === 'string' ? r.pricing.type : null);
      json.push(JSON.stringify(r));
    }
    await this.#pool.query(
      `INSERT INTO cbot_relay_messages (id, caller, channel, recipient, status, tag, created_at, updated_at, category, pricing_type, record)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
                            $9::text[], $10::text[], $11::jsonb[])
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, tag = EXCLUDED.tag, updated_at = EXCLUDED.updated_at,
         category = EXCLUDED.category, pricing_type = EXCLUDED.pricing_type, record = EXCLUDED.record
       WHERE cbot_relay_messages.updated_at <= EXCLUDED.updated_at`,
      [cols.id, cols.caller, cols.channel, cols.recipient, cols.status, tags, created, updated, categories, types, json],
    );
  }

  async get(id: string): Promise<HistoryRecord | undefined> {
    const { rows } = await this.#pool.query<{ record: HistoryRecord }>('SELECT record FROM cbot_relay_messages WHERE id = $1', [id]);
    return rows[0]?.record;
  }

  /** Newest first by (acceptance time, id), from after the cursor; the same order as the Redis list. */
  async list(q: HistoryQuery): Promise<HistoryPage> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.caller !== undefined) add('caller = ?', q.caller);
    if (q.to !== undefined) add('recipient = ?', q.to);
    if (q.status !== undefined) add('status = ?', q.status);
    if (q.tag !== undefined) add('tag = ?', q.tag);
    if (q.channel !== undefined) add('channel = ?', q.channel);
    if (q.sinceMs !== undefined) add('created_at >= ?', new Date(q.sinceMs));
    if (q.untilMs !== undefined) add('created_at < ?', new Date(q.untilMs));
    if (q.cursor !== undefined) {
      args.push(new Date(q.cursor.atMs), q.cursor.id);
      where.push(`(created_at, id) < ($${args.length - 1}, $${args.length})`);
    }
    args.push(q.limit + 1);
    const { rows } = await this.#pool.query<{ record: HistoryRecord; at: Date; id: string }>(
      `SELECT record, created_at AS at, id FROM cbot_relay_messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      records: page.map((r) => r.record),
      ...(rows.length > q.limit && last ? { next: { atMs: last.at.getTime(), id: last.id } } : {}),
    };
  }

  /** Priced messages accepted in [sinceMs, untilMs), counted per caller, channel, category and type. */
  async usage(q: { sinceMs: number; untilMs: number; caller?: string; channel?: string }): Promise<UsageRow[]> {
    const args: unknown[] = [new Date(q.sinceMs), new Date(q.untilMs)];
    let filter = '';
    if (q.caller !== undefined) {
      args.push(q.caller);
      filter += ` AND caller = $${args.length}`;
    }
    if (q.channel !== undefined) {
      args.push(q.channel);
      filter += ` AND channel = $${args.length}`;
    }
    const { rows } = await this.#pool.query<{ caller: string; channel: string; category: string; type: string; count: string }>(
      `SELECT caller, channel, category, coalesce(pricing_type, '') AS type, count(*) AS count FROM cbot_relay_messages
       WHERE category IS NOT NULL AND created_at >= $1 AND created_at < $2${filter}
       GROUP BY caller, channel, category, pricing_type ORDER BY caller, channel, category, type`,
      args,
    );
    return rows.map((r) => ({ caller: r.caller, channel: r.channel, category: r.category, type: r.type, count: Number(r.count) }));
  }

  /** Ends the pool (idempotent). */
  close(): Promise<void> {
    this.#closed ??= this.#pool.end();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
