import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import type { RelayEvent } from '@cbot-relay/consumer';
import { REPO_ROOT, waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { BASIC, json, startHarness } from './test-kit/harness.js';
import { QueueState } from './test-kit/queue-state.js';

const INBOUND = join(REPO_ROOT, 'packages/messages/src/testdata/samples/inbound');
const sample = (name: string) => readFileSync(join(INBOUND, name));

let h: Harness;
let redis: Redis;
const events: RelayEvent[] = [];
let consumer: { close(): Promise<void> };
let inbound: QueueState;
let subscriberQueue: QueueState;

beforeAll(async () => {
  h = await startHarness({ env: { CBOT_APP_SECRET: 'test_app_secret' }, knobs: { statusCallbacks: false } });
  redis = new Redis(h.redis.url, { maxRetriesPerRequest: null });
  inbound = new QueueState(h.redis.url, h.prefix, 'inbound');
  subscriberQueue = new QueueState(h.redis.url, h.prefix, 'events.default');
  consumer = createConsumer({
    subscriber: 'default',
    connection: redis,
    prefix: h.prefix,
    concurrency: 8,
    handler: async (e) => {
      events.push(e);
    },
  });
});
afterAll(async () => {
  await consumer.close();
  await inbound.close();
  await subscriberQueue.close();
  redis.disconnect();
  await h.close();
});

const post = (body: Buffer | string, headers: Record<string, string> = { authorization: BASIC }) =>
  fetch(`${h.base}/webhooks/cbot`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/**
 * Waits until every callback posted so far is fanned out and every event it made was consumed:
 * the inbound queue first (a callback's events are on events.default before its job completes),
 * then the subscriber's queue (the handler has run once its job completes).
 */
async function settle(): Promise<void> {
  await waitFor(async () => (await inbound.pending()) === 0 && (await subscriberQueue.pending()) === 0, { what: 'inbound and events.default to drain' });
  expect(await inbound.failed()).toBe(0);
  expect(await subscriberQueue.failed()).toBe(0);
}

/** What makes an event one event: the CBOT message, or the CBOT status of one message. */
const eventKey = (e: RelayEvent) => {
  const d = e.data as { id?: string; status?: string };
  return e.type === 'message.status' ? `status:${d.id}:${d.status}` : e.type === 'message.received' ? `message:${d.id}` : `other:${JSON.stringify(d)}`;
};

describe('POST /webhooks/cbot', () => {
  it('turns every inbound sample into exactly one event per message and status, also when posted 3 times', async () => {
    const files = readdirSync(INBOUND).filter((f) => f.endsWith('.json') && !f.startsWith('t19'));
    const expected = new Map<string, number>();
    for (const f of files) {
      const payload = JSON.parse(sample(f).toString()) as { messages?: unknown[]; statuses?: unknown[] };
      expected.set(f, (payload.messages?.length ?? 0) + (payload.statuses?.length ?? 0));
      for (let i = 0; i < 3; i++) expect((await post(sample(f))).status).toBe(200);
    }
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    // A duplicate would come from a callback or an event still queued: count only once both queues drained.
    await settle();
    expect(events).toHaveLength(total);
    expect(new Set(events.map((e) => e.id)).size).toBe(total);
    expect(new Set(events.map(eventKey)).size).toBe(total);
    const t11 = events.filter((e) => e.type === 'message.received' && ['ABGHkFVVURIjAhIx7yZ0aB2cD5eK', 'ABGHkFVVmZiHdwISw6vU4tS2rQ0L'].includes((e.data as { id: string }).id));
    expect(t11.map((e) => [(e.data as { from: string }).from, (e.contact as { profile: { name: string } }).profile.name]).sort()).toEqual([
      ['905551112233', 'Ayşe Yılmaz'],
      ['905559998877', 'Mehmet Demir'],
    ]);
    const loc = events.find((e) => (e.data as { type?: string }).type === 'location');
    expect((loc?.data as { location: { latitude: number } }).location.latitude).toBe(40.990368);
  });

  it('refuses missing or wrong Basic credentials with 401 and enqueues nothing', async () => {
    // A callback is on the inbound queue before its 200, so the count right after the answers is final.
    const before = await h.callbacksTaken();
    const body = sample('t01-text.json');
    const wrong = `Basic ${Buffer.from('cbot-relay:nope').toString('base64')}`;
    for (const headers of [{}, { authorization: wrong }, { authorization: 'Bearer x' }] as Record<string, string>[]) {
      const res = await post(body, headers);
      expect(res.status).toBe(401);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('unauthorized');
    }
    expect(await h.callbacksTaken()).toBe(before);
    expect((await post(body)).status).toBe(200); // the same body with the right credentials is taken
    expect(await h.callbacksTaken()).toBe(before + 1);
  });

  it('authenticates a signed Cloud callback by X-Hub-Signature-256 over the raw bytes', async () => {
    const raw = sample('t19-cloud-text-signed.json');
    expect(raw.length).toBe(502);
    const sig = `sha256=${createHmac('sha256', 'test_app_secret').update(raw).digest('hex')}`;
    expect(sig).toBe('sha256=03657d4fa8bfcb9369d6d92dc16a33e7d704488475585d3c12df91266554aab7');
    expect((await post(raw, { 'x-hub-signature-256': sig })).status).toBe(200);
    expect((await post(raw, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, authorization: BASIC })).status).toBe(401);
    const ev = await waitFor(() => events.find((e) => (e.data as { id: string }).id.startsWith('wamid.HBgMOTA1NTUxMTEyMjMz')));
    expect(ev.type).toBe('message.received');
    expect(ev.metadata).toMatchObject({ phone_number_id: '110000000000001' });
  });

  it('keeps unknown shapes as unrecognized events and rejects malformed JSON', async () => {
    expect((await post('{"hello":"world","n":1}')).status).toBe(200);
    const ev = await waitFor(() => events.find((e) => e.type === 'unrecognized' && (e.data as { hello?: string }).hello === 'world'));
    expect(ev.data).toEqual({ hello: 'world', n: 1 });
    const before = await h.callbacksTaken();
    const bad = await post('{"messages": [');
    expect(bad.status).toBe(400);
    expect((await json<{ error: { code: string } }>(bad)).error.code).toBe('invalid_json');
    expect((await post(Buffer.alloc(3 * 1024 * 1024 + 1, 0x20))).status).toBe(413);
    expect(await h.callbacksTaken()).toBe(before);
  });

  it('takes a signed 2.9 MB Cloud callback (WEBHOOK_MAX_BODY_BYTES is 3 MiB by default) and makes each of its messages an event', async () => {
    const text = 'x'.repeat(145_000);
    const messages = Array.from({ length: 20 }, (_, i) => ({
      from: '905551112233',
      id: `wamid.BIG${String(i).padStart(4, '0')}`,
      timestamp: '1717171800',
      type: 'text',
      text: { body: text },
    }));
    const raw = Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '104857600000001', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '110000000000001' }, messages } }] }],
      }),
    );
    expect(raw.length).toBeGreaterThan(2_900_000);
    expect(raw.length).toBeLessThan(3 * 1024 * 1024);
    const sig = `sha256=${createHmac('sha256', 'test_app_secret').update(raw).digest('hex')}`;
    expect((await post(raw, { 'x-hub-signature-256': sig })).status).toBe(200);
    await settle();
    const big = events.filter((e) => e.type === 'message.received' && (e.data as { id: string }).id.startsWith('wamid.BIG'));
    expect(big.map((e) => (e.data as { id: string }).id).sort()).toEqual(messages.map((m) => m.id));
    expect(big.every((e) => (e.data as { text: { body: string } }).text.body.length === text.length)).toBe(true);
  });

  it('takes a gzip-encoded callback (served by express, not the hot path) the same way', async () => {
    const res = await post(gzipSync('{"zipped":true}'), { authorization: BASIC, 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const ev = await waitFor(() => events.find((e) => e.type === 'unrecognized' && (e.data as { zipped?: boolean }).zipped === true));
    expect(ev.data).toEqual({ zipped: true });
  });

  it('keeps no finished callback on the inbound queue and consumes each event once', async () => {
    await settle();
    const before = events.length;
    expect((await post('{"drain":"check"}')).status).toBe(200);
    await settle();
    // removeOnComplete: a fanned-out callback leaves nothing behind on the inbound queue.
    expect(await inbound.completed()).toBe(0);
    expect(events.slice(before).map((e) => e.data)).toEqual([{ drain: 'check' }]);
    expect(await subscriberQueue.completed()).toBe(events.length);
  });
});
