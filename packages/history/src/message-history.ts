import type { HistoryCursor, HistoryDb, HistoryQuery, HistoryRecord } from './history-db.js';

/** What the Redis side answers: `MessageStore`'s get and list, in the same shapes. */
export interface HotRecords<R> {
  get(id: string): Promise<R | undefined>;
  list(q: HistoryQuery): Promise<{ records: R[]; next?: HistoryCursor }>;
}

const key = (r: { createdAt: string; id: string }): HistoryCursor => ({ atMs: Date.parse(r.createdAt), id: r.id });
/** Newest first: a before b when a is later, ties by id descending (the order both stores list in). */
const newer = (a: HistoryCursor, b: HistoryCursor) => (a.atMs !== b.atMs ? a.atMs > b.atMs : a.id > b.id);

/**
 * Records from Redis while they are hot and from PostgreSQL after, behind one get and one list with
 * one cursor. A record in both is Redis's (the newer copy).
 */
export class MessageHistory<R extends { id: string; createdAt: string }> {
  /**
   * `parse` reads a row's record back into the hot store's shape (the writer copied records of that
   * shape); a row it cannot read is left out.
   */
  constructor(
    readonly hot: HotRecords<R>,
    readonly db: Pick<HistoryDb, 'get' | 'list'>,
    readonly parse: (row: HistoryRecord) => R | undefined,
  ) {}

  async get(id: string): Promise<R | undefined> {
    const hot = await this.hot.get(id);
    if (hot !== undefined) return hot;
    const row = await this.db.get(id);
    return row === undefined ? undefined : this.parse(row);
  }

  /**
   * Both stores' pages for the same query and cursor, merged newest first. A store that stopped early
   * (it returned a cursor) has looked only down to that cursor, so the page ends there: nothing older
   * from the other store is shown before the first store has looked that far, and none is skipped.
   */
  async list(q: HistoryQuery): Promise<{ records: R[]; next?: HistoryCursor }> {
    const [hot, rows] = await Promise.all([this.hot.list(q), this.db.list(q)]);
    const cold = { records: rows.records.flatMap((row) => this.parse(row) ?? []), next: rows.next };
    const cuts = [hot.next, cold.next].filter((c): c is HistoryCursor => c !== undefined);
    const cut = cuts.reduce<HistoryCursor | undefined>((a, c) => (a === undefined || newer(c, a) ? c : a), undefined);
    const byId = new Map<string, R>();
    for (const r of cold.records) byId.set(r.id, r);
    for (const r of hot.records) byId.set(r.id, r);
    const merged = [...byId.values()]
      .filter((r) => cut === undefined || !newer(cut, key(r)))
      .sort((a, b) => (newer(key(a), key(b)) ? -1 : 1));
    const page = merged.slice(0, q.limit);
    const last = page.at(-1);
    if (merged.length > q.limit && last) return { records: page, next: key(last) };
    return { records: page, ...(cut === undefined ? {} : { next: cut }) };
  }
}
