import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryCursor, HistoryQuery, HistoryRecord } from './history-db.js';
import { MessageHistory } from './message-history.js';

type Rec = { id: string; createdAt: string; from: string };
const at = (r: Rec) => Date.parse(r.createdAt);
const after = (r: Rec, c: HistoryCursor | undefined) => c === undefined || at(r) < c.atMs || (at(r) === c.atMs && r.id < c.id);
const order = (a: Rec, b: Rec) => (at(a) !== at(b) ? at(b) - at(a) : a.id < b.id ? 1 : -1);

/** A store that lists newest first and, like the Redis list, may stop after `scan` entries with a cursor. */
function store(records: Rec[], scan: number) {
  const sorted = [...records].sort(order);
  return {
    get: async (id: string) => sorted.find((r) => r.id === id),
    list: async (q: HistoryQuery) => {
      const rest = sorted.filter((r) => after(r, q.cursor));
      const looked = rest.slice(0, Math.min(scan, q.limit));
      const next = rest.length > looked.length ? { atMs: at(looked.at(-1)!), id: looked.at(-1)!.id } : undefined;
      return { records: looked, ...(next ? { next } : {}) };
    },
  };
}

describe('MessageHistory.list', () => {
  it('pages through Redis and PostgreSQL as one list: every record once, newest first, the hot copy of a record in both', () =>
    fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ t: fc.integer({ min: 0, max: 20 }), where: fc.constantFrom('hot', 'cold', 'both') }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        async (items, limit, hotScan, coldScan) => {
          const recs = items.map((x, i) => ({ id: `m${String(i).padStart(3, '0')}`, createdAt: new Date(1e12 + x.t * 1000).toISOString(), where: x.where }));
          const hot = recs.filter((r) => r.where !== 'cold').map((r) => ({ id: r.id, createdAt: r.createdAt, from: 'hot' }));
          const cold = recs.filter((r) => r.where !== 'hot').map((r) => ({ id: r.id, createdAt: r.createdAt, from: 'cold' }));
          const h = new MessageHistory<Rec>(store(hot, hotScan), store(cold, coldScan) as never, (row) => row as unknown as Rec);
          const seen: Rec[] = [];
          let cursor: HistoryCursor | undefined;
          for (let i = 0; i < 500; i++) {
            const page = await h.list({ limit, ...(cursor ? { cursor } : {}) });
            seen.push(...page.records);
            if (!page.next) break;
            cursor = page.next;
          }
          const expected = recs.map((r) => ({ id: r.id, createdAt: r.createdAt, from: r.where === 'cold' ? 'cold' : 'hot' })).sort(order);
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    ));

  it('gets a record from Redis first, else from PostgreSQL', async () => {
    const h = new MessageHistory<Rec>(store([{ id: 'a', createdAt: new Date(1).toISOString(), from: 'hot' }], 10), {
      get: async (id: string) => (id === 'b' ? ({ id: 'b' } as HistoryRecord) : undefined),
      list: async () => ({ records: [] }),
    }, (row) => row as unknown as Rec);
    expect(await h.get('a')).toMatchObject({ from: 'hot' });
    expect(await h.get('b')).toEqual({ id: 'b' });
    expect(await h.get('c')).toBeUndefined();
  });
});
