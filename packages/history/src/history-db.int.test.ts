import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres } from '@cbot-relay/testing';
import type { TestPostgres } from '@cbot-relay/testing';
import { HistoryDb } from './history-db.js';
import type { HistoryRecord } from './history-db.js';

let server: TestPostgres;
let db: HistoryDb;
beforeAll(async () => {
  server = await startTestPostgres();
  db = new HistoryDb({ url: server.url });
  await db.migrate();
});
afterAll(async () => {
  await db.close();
  await server.close();
});

const T0 = Date.parse('2026-09-01T00:00:00Z');
const rec = (id: string, over: Partial<HistoryRecord> = {}): HistoryRecord => ({
  id,
  caller: 'crm',
  channel: 'default',
  to: '905551112233',
  status: 'sent',
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0 + 1000).toISOString(),
  type: 'text',
  ...over,
});

describe('HistoryDb', () => {
  it('migrates once: a second run (another process starting) changes nothing', async () => {
    await expect(db.migrate()).resolves.toBeUndefined();
    const other = new HistoryDb({ url: server.url });
    try {
      await Promise.all([other.migrate(), db.migrate()]);
    } finally {
      await other.close();
    }
  });

  it('writes a record once however often it is upserted, and an older version never overwrites a newer one', async () => {
    const newer = rec('msg_up1', { status: 'read', updatedAt: new Date(T0 + 5000).toISOString() });
    await db.upsert([rec('msg_up1', { status: 'sent' })]);
    await db.upsert([newer, newer]);
    await db.upsert([rec('msg_up1', { status: 'delivered', updatedAt: new Date(T0 + 3000).toISOString() })]);
    expect(await db.get('msg_up1')).toEqual(newer);
    expect((await db.list({ limit: 10, to: '905551112233', caller: 'crm', sinceMs: T0, untilMs: T0 + 1 })).records.map((r) => r.id)).toEqual(['msg_up1']);
    expect(await db.get('msg_nope')).toBeUndefined();
  });

  it('lists newest first and pages by (acceptance time, id) with filters', async () => {
    const base = T0 + 86_400_000;
    const rows = Array.from({ length: 25 }, (_, i) =>
      rec(`msg_l${String(i).padStart(2, '0')}`, {
        createdAt: new Date(base + Math.floor(i / 2) * 1000).toISOString(),
        updatedAt: new Date(base + 60_000).toISOString(),
        caller: i % 5 === 0 ? 'billing' : 'crm',
        to: '905550000001',
        tag: i % 2 === 0 ? 'camp-1' : undefined,
      }),
    );
    await db.upsert(rows);
    const seen: string[] = [];
    let cursor;
    for (let page = 0; page < 10; page++) {
      const p = await db.list({ limit: 4, to: '905550000001', caller: 'crm', ...(cursor ? { cursor } : {}) });
      seen.push(...p.records.map((r) => r.id));
      if (!p.next) break;
      cursor = p.next;
    }
    const expected = rows
      .filter((r) => r.caller === 'crm')
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .map((r) => r.id);
    expect(seen).toEqual(expected);
    const tagged = await db.list({ limit: 100, tag: 'camp-1' });
    expect(tagged.records).toHaveLength(13);
    expect(tagged.next).toBeUndefined();
  });

  it('counts priced messages per caller, channel, category and type in a time range', async () => {
    const at = T0 + 2 * 86_400_000;
    const priced = (id: string, caller: string, category: string, type: string, dayOffset = 0) =>
      rec(id, { caller, createdAt: new Date(at + dayOffset * 86_400_000).toISOString(), pricing: { billable: true, model: 'PMP', category, type } });
    await db.upsert([
      priced('msg_u1', 'crm', 'marketing', 'regular'),
      priced('msg_u2', 'crm', 'marketing', 'regular'),
      priced('msg_u3', 'crm', 'service', 'free_customer_service'),
      priced('msg_u4', 'billing', 'utility', 'regular'),
      priced('msg_u5', 'crm', 'marketing', 'regular', 3),
      rec('msg_u6', { createdAt: new Date(at).toISOString() }),
    ]);
    const day = { sinceMs: at, untilMs: at + 86_400_000 };
    expect(await db.usage(day)).toEqual([
      { caller: 'billing', channel: 'default', category: 'utility', type: 'regular', count: 1 },
      { caller: 'crm', channel: 'default', category: 'marketing', type: 'regular', count: 2 },
      { caller: 'crm', channel: 'default', category: 'service', type: 'free_customer_service', count: 1 },
    ]);
    expect(await db.usage({ ...day, caller: 'billing' })).toHaveLength(1);
  });
});
