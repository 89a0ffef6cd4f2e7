import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from './history-db.js';
import type { DirtyEntry, DirtySource } from './history-writer.js';
import { HistoryWriter } from './history-writer.js';

/** Dirty entries and records in memory, with the same rule as Redis: done() keeps an entry whose mark moved. */
class FakeSource implements DirtySource {
  dirty = new Map<string, number>();
  recs = new Map<string, HistoryRecord>();
  change(id: string, mark: number, status = 'sent') {
    this.dirty.set(id, mark);
    this.recs.set(id, { id, caller: 'c', channel: 'default', to: '1', status, createdAt: 'a', updatedAt: String(mark) });
  }
  async take(n: number): Promise<DirtyEntry[]> {
    return [...this.dirty].sort((a, b) => a[1] - b[1]).slice(0, n).map(([id, mark]) => ({ id, mark }));
  }
  async records(ids: string[]) {
    return ids.flatMap((id) => (this.recs.has(id) ? [this.recs.get(id)!] : []));
  }
  async done(entries: DirtyEntry[]) {
    for (const e of entries) if (this.dirty.get(e.id) === e.mark) this.dirty.delete(e.id);
  }
}

describe('HistoryWriter.pass', () => {
  it('writes the batch, then marks it done; a record changed meanwhile stays dirty for the next pass', async () => {
    const source = new FakeSource();
    const written: HistoryRecord[][] = [];
    const db = {
      upsert: async (r: HistoryRecord[]) => {
        written.push(r);
        if (written.length === 1) source.change('m1', 5, 'delivered'); // a callback lands while we write
      },
    };
    source.change('m1', 1);
    source.change('m2', 2);
    const w = new HistoryWriter({ db, sources: [source], batch: 10 });
    expect(await w.pass()).toBe(2);
    expect([...source.dirty.keys()]).toEqual(['m1']);
    expect(await w.pass()).toBe(1);
    expect(written[1]!.map((r) => r.status)).toEqual(['delivered']);
    expect(await w.pass()).toBe(0);
  });

  it('leaves the batch dirty when the database refuses it', async () => {
    const source = new FakeSource();
    source.change('m1', 1);
    const w = new HistoryWriter({ db: { upsert: async () => Promise.reject(new Error('connection refused')) }, sources: [source] });
    await expect(w.pass()).rejects.toThrow('connection refused');
    expect(source.dirty.has('m1')).toBe(true);
  });

  it('keeps passing until close, and close waits for the pass in progress', async () => {
    const source = new FakeSource();
    const errors: unknown[] = [];
    let calls = 0;
    const db = {
      upsert: async () => {
        calls += 1;
        if (calls === 1) throw new Error('down');
      },
    };
    source.change('m1', 1);
    const w = new HistoryWriter({ db, sources: [source], idleMs: 5, backoffMs: 1, onError: (e) => errors.push(e) });
    w.start();
    await expect.poll(() => source.dirty.size).toBe(0);
    await w.close();
    await w.close();
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
  });
});
