import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryDb } from '@cbot-relay/history';
import { PartitionKeys } from '@cbot-relay/records';
import { startTestPostgres, waitFor } from '@cbot-relay/testing';
import type { TestPostgres } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { API_KEY, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

type Rec = { id: string; status: string; to: string; history: { status: string }[]; cbotMessageId: string | null };

let pg: TestPostgres;
let h: Harness;
let db: HistoryDb;
let redis: Redis;
beforeAll(async () => {
  pg = await startTestPostgres();
  h = await startHarness({ env: { HISTORY_DATABASE_URL: pg.url } });
  db = new HistoryDb({ url: pg.url });
  redis = new Redis(h.redis.url);
});
afterAll(async () => {
  redis.disconnect();
  await db.close();
  await h.close();
  await pg.close();
});

const text = (to: string, body: string) => ({ to, type: 'text', text: { body } });
const keys = () => new PartitionKeys(h.prefix);

describe('the history store (HISTORY_DATABASE_URL)', () => {
  it('copies every record to PostgreSQL as it moves, and serves it from there once Redis has let it go', async () => {
    const to = '905557770001';
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await json<{ id: string }>(await h.send(text(to, `m${i}`)))).id);
    // The simulator reports delivered and read: the copies follow the record to its last status.
    await waitFor(async () => (await Promise.all(ids.map((id) => db.get(id)))).every((r) => r?.status === 'read'), { what: 'records in PostgreSQL at read' });
    await waitFor(async () => (await redis.zcard(keys().historyDirty)) === 0, { what: 'dirty set drained' });
    const hot = await Promise.all(ids.map(async (id) => json<Rec>(await h.get(id))));

    // What HOT_RETENTION's expiry does: the records and their list-index entries leave Redis.
    for (const id of ids) await redis.del(keys().record(id), keys().body(id));
    await redis.del(keys().recipientIndex(to), keys().callerIndex('crm'));
    for (const [i, id] of ids.entries()) {
      const res = await h.get(id);
      expect(res.status).toBe(200);
      expect(await json<Rec>(res)).toEqual(hot[i]);
    }
    // Another caller still cannot see them.
    expect((await h.get(ids[0]!, OTHER_API_KEY)).status).toBe(404);

    // The list pages across the store with the same cursor: newest first, each once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url = `${h.base}/v1/messages?to=${to}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { items: Rec[]; nextCursor: string | null } = await json(await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` } }));
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...ids].reverse());
  });

  it('lists hot and cold records together: a message still in Redis and one only in PostgreSQL', async () => {
    const to = '905557770002';
    const old = (await json<{ id: string }>(await h.send(text(to, 'old')))).id;
    await waitFor(async () => (await db.get(old))?.status === 'read', { what: 'old message copied' });
    await redis.del(keys().record(old), keys().body(old));
    await redis.zrem(keys().recipientIndex(to), old);
    const fresh = (await json<{ id: string }>(await h.send(text(to, 'fresh')))).id;
    const page: { items: Rec[] } = await json(await fetch(`${h.base}/v1/messages?to=${to}`, { headers: { authorization: `Bearer ${API_KEY}` } }));
    expect(page.items.map((r) => r.id)).toEqual([fresh, old]);
  });
});
