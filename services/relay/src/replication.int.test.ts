import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { API_KEY, BASIC, json, startHarness } from './test-kit/harness.js';

// Issue 23 item 4: REDIS_WAIT_REPLICAS makes the 202 (single and batch) and the callback's 200 wait
// until a replica has the write; with the replica gone, 503 replication_timeout with Retry-After,
// and a retry with the same Idempotency-Key once it is back returns the one message.

let primary: LocalRedis;
let replica: LocalRedis;
let h: Harness;

async function replicaInSync(): Promise<void> {
  const probe = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
  probe.on('error', () => undefined);
  try {
    await waitFor(async () => /master_link_status:up/.test(await probe.info('replication')), { timeoutMs: 20_000, intervalMs: 50, what: 'replica in sync' });
  } finally {
    probe.disconnect();
  }
}

beforeAll(async () => {
  primary = await LocalRedis.start();
  replica = await LocalRedis.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  await replicaInSync();
  h = await startHarness({
    redis: { url: primary.url, kind: 'local', close: () => primary.close(), [Symbol.asyncDispose]: () => primary.close() },
    env: { RELAY_ROLES: 'ingress', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' },
  });
});
afterAll(async () => {
  await h?.close();
  await replica?.close();
  await primary?.close();
});

const message = { to: '905551112233', type: 'text', text: { body: 'replicated' } };
const batch = (key: string) =>
  fetch(`${h.base}/v1/messages/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ ...message, idempotencyKey: key }] }),
  });
const callback = () =>
  fetch(`${h.base}/webhooks/cbot`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ id: 'in-repl', from: '905551110000', type: 'text', text: { body: 'hi' } }] }),
  });

describe('REDIS_WAIT_REPLICAS=1', () => {
  it('answers 202 / 207 / 200 once the replica has the write, and 503 replication_timeout while it is down', async () => {
    const ok = await h.send(message, { 'idempotency-key': 'repl-1' });
    expect(ok.status).toBe(202);
    const first = (await json<{ id: string }>(ok)).id;
    expect((await batch('repl-batch-1')).status).toBe(207);
    expect((await callback()).status).toBe(200);

    await replica.kill();
    const refused = await h.send(message, { 'idempotency-key': 'repl-2' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await json<{ error: { code: string } }>(refused)).error.code).toBe('replication_timeout');
    const refusedBatch = await batch('repl-batch-2');
    expect(refusedBatch.status).toBe(503);
    expect((await json<{ error: { code: string } }>(refusedBatch)).error.code).toBe('replication_timeout');
    const refusedCallback = await callback();
    expect(refusedCallback.status).toBe(503);
    expect((await json<{ error: { code: string } }>(refusedCallback)).error.code).toBe('replication_timeout');

    await replica.restart();
    await replicaInSync();
    // The refused send was written in the primary: the retry returns it, and waits for the replica again.
    const retried = await h.send(message, { 'idempotency-key': 'repl-2' });
    expect(retried.status).toBe(202);
    const second = (await json<{ id: string }>(retried)).id;
    expect(second).not.toBe(first);
    const again = await h.send(message, { 'idempotency-key': 'repl-2' });
    expect((await json<{ id: string }>(again)).id).toBe(second);
    const listed = await json<{ items: { id: string }[] }>(await fetch(`${h.base}/v1/messages?limit=50`, { headers: { authorization: `Bearer ${API_KEY}` } }));
    // repl-1, repl-batch-1, repl-batch-2 (written, refused, not retried) and repl-2: each once.
    expect(listed.items.map((m) => m.id).filter((id) => id === second)).toHaveLength(1);
    expect(listed.items).toHaveLength(4);
  });
});
