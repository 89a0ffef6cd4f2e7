import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import type { RelayEvent } from '@cbot-relay/consumer';
import { Recipients } from '@cbot-relay/records';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, json, startHarness } from './test-kit/harness.js';

type Rec = { id: string; status: string; error?: { code?: number | string }; history: { status: string }[]; sentBody?: string; attempts: { outcome: string }[] };
type View = { to: string; channel: string; lastInboundAt: string | null; window: string; windowClosesAt: string | null; optedOut: boolean; optedOutAt: string | null };

const H = 3_600_000;
let h: Harness;
let redis: Redis;
let rules: Recipients;
const events: RelayEvent[] = [];
let consumer: { close(): Promise<void> };

beforeAll(async () => {
  h = await startHarness({ knobs: { statusCallbacks: false } });
  redis = new Redis(h.redis.url, { maxRetriesPerRequest: null });
  rules = new Recipients({ redis, prefix: h.prefix });
  consumer = createConsumer({ subscriber: 'default', connection: redis, prefix: h.prefix, concurrency: 4, handler: async (e) => void events.push(e) });
});
afterAll(async () => {
  await consumer.close();
  redis.disconnect();
  await h.close();
});
afterEach(() => {
  h.sim.setKnobs({ outageUntil: 0, outsideWindow: [], enforceWindow: false });
});

const text = (to: string, body = 'hello') => ({ to, type: 'text', text: { body } });
// Templates the simulator lists (the ingress checks template sends against the channel's list).
const template = { name: 'hello_world', language: { code: 'en_US' } };
const withFallback = (to: string) => ({ ...text(to), fallback: { type: 'template', template } });
const record = async (id: string) => json<Rec>(await h.get(id));
const recipient = async (to: string, query = '') =>
  fetch(`${h.base}/v1/recipients/${encodeURIComponent(to)}${query}`, { headers: { authorization: `Bearer ${API_KEY}` } });
const view = async (to: string) => json<View>(await recipient(to));
const toCbot = (to: string) => h.sim.received().filter((m) => m.to === to);
const ended = (id: string, statuses = ['sent', 'failed']) =>
  waitFor(async () => {
    const r = await record(id);
    return statuses.includes(r.status) ? r : undefined;
  }, { what: `${id} to end` });
const adminCall = (path: string, method = 'GET') => fetch(`${h.base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

/** An inbound message from `from` sent at `atMs` (its own timestamp), through the simulator and the relay's fanout. */
async function inbound(from: string, atMs = Date.now(), opts: { text?: string; format?: 'onprem' | 'cloud' } = {}) {
  await h.sim.deliverInbound({ from, timestamp: Math.floor(atMs / 1000), ...opts });
  await waitFor(async () => (await view(from)).lastInboundAt !== null, { what: `the inbound from ${from} recorded` });
}

describe('customer-service window', () => {
  it('answers 422 for a free-form send whose last inbound is 25 h old, and nothing reaches CBOT', async () => {
    const to = '905553330001';
    const old = Date.now() - 25 * H;
    await inbound(to, old);
    expect(await view(to)).toMatchObject({ window: 'closed', lastInboundAt: new Date(Math.floor(old / 1000) * 1000).toISOString(), optedOut: false });
    const started = performance.now();
    const res = await h.send(text(to));
    const ms = performance.now() - started;
    expect(res.status).toBe(422);
    const body = await json<{ error: { code: string; details: { lastInboundAt: string }[] } }>(res);
    expect(body.error.code).toBe('outside_customer_service_window');
    expect(body.error.details[0]?.lastInboundAt).toBe(new Date(Math.floor(old / 1000) * 1000).toISOString());
    // The issue's target (a 422 in under 20 ms) is a latency measurement, not asserted here: this
    // machine is shared. Nothing was queued: the template below is the recipient's only message.
    void ms;
    // A template still goes; the window says closed.
    const t = await h.send({ to, type: 'template', template });
    expect(t.status).toBe(202);
    expect(t.headers.get('x-relay-window')).toBe('closed');
    await ended((await json<{ id: string }>(t)).id);
    expect(toCbot(to).map((m) => m.type)).toEqual(['template']);
  });

  it('sends exactly one fallback template instead, and the record shows it', async () => {
    const to = '905553330002';
    await rules.setLastInbound('default', to, Math.floor((Date.now() - 25 * H) / 1000));
    const res = await h.send(withFallback(to));
    expect(res.status).toBe(202);
    expect(res.headers.get('x-relay-window')).toBe('closed');
    const rec = await ended((await json<{ id: string }>(res)).id);
    expect(rec).toMatchObject({ status: 'sent', sentBody: 'fallback' });
    expect(rec.history.map((e) => e.status)).toEqual(['queued', 'fallback', 'sending', 'sent']);
    const sent = toCbot(to);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ to, type: 'template', template });
  });

  it('strips the fallback from a free-form message sent in an open window', async () => {
    const to = '905553330003';
    await inbound(to);
    const res = await h.send(withFallback(to));
    expect(res.headers.get('x-relay-window')).toBe('open');
    const rec = await ended((await json<{ id: string }>(res)).id);
    expect(rec.sentBody).toBe('message');
    expect(toCbot(to).map((m) => m.body)).toEqual([text(to)]);
  });

  it('does not send a message as free-form when its window closed while it waited; a fallback goes instead', async () => {
    const [plain, fb] = ['905553330004', '905553330005'];
    for (const to of [plain, fb]) await inbound(to);
    // CBOT is down: both wait at their recipients' heads, retried.
    h.sim.setKnobs({ outageUntil: Date.now() + 60_000 });
    const a = await h.send(text(plain));
    const b = await h.send(withFallback(fb));
    expect([a.headers.get('x-relay-window'), b.headers.get('x-relay-window')]).toEqual(['open', 'open']);
    const [ida, idb] = [(await json<{ id: string }>(a)).id, (await json<{ id: string }>(b)).id];
    await waitFor(async () => (await record(ida)).attempts.length > 0 && (await record(idb)).attempts.length > 0, { what: 'a first failed attempt each' });
    // Their windows close (24 h pass) while they wait.
    for (const to of [plain, fb]) await rules.setLastInbound('default', to, Math.floor((Date.now() - 25 * H) / 1000));
    // CBOT stays down until the free-form one has ended: an attempt claimed before the window closed
    // cannot get through, and the next claim sees the window closed.
    const ra = await ended(ida);
    expect(ra).toMatchObject({ status: 'failed', error: { code: 'outside_customer_service_window' } });
    h.sim.setKnobs({ outageUntil: 0 });
    const rb = await ended(idb);
    expect(rb).toMatchObject({ status: 'sent', sentBody: 'fallback' });
    expect(toCbot(plain)).toEqual([]);
    expect(toCbot(fb).map((m) => m.type)).toEqual(['template']);
  });

  it("sends the fallback once when CBOT refuses the message for its window (470), in the recipient's order", async () => {
    const to = '905553330006';
    h.sim.setKnobs({ outsideWindow: [to] });
    const first = await h.send(withFallback(to));
    expect(first.headers.get('x-relay-window')).toBe('unknown');
    const second = await h.send({ to, type: 'template', template: { name: 'otp_code', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '123456' }] }] } });
    const rec = await ended((await json<{ id: string }>(first)).id);
    await ended((await json<{ id: string }>(second)).id);
    expect(rec).toMatchObject({ status: 'sent', sentBody: 'fallback' });
    expect(rec.history.filter((e) => e.status === 'fallback')).toHaveLength(1);
    expect(rec.attempts.map((x) => x.outcome)).toEqual(['failed', 'sent']);
    expect(toCbot(to).map((m) => (m.body as { template: { name: string } }).template.name)).toEqual(['hello_world', 'otp_code']);
    // Without a fallback the refusal is final.
    const plain = await h.send(text(to));
    expect(await ended((await json<{ id: string }>(plain)).id)).toMatchObject({ status: 'failed', error: { code: 470 } });
  });

  it('sends the fallback when a failed status callback reports the window (131047) after the send', async () => {
    const to = '905553330011';
    await inbound(to);
    const id = (await json<{ id: string }>(await h.send(withFallback(to)))).id;
    const sent = await ended(id);
    expect(sent).toMatchObject({ status: 'sent', sentBody: 'message' });
    const wamid = (sent as unknown as { cbotMessageId: string }).cbotMessageId;
    const failed = { statuses: [{ id: wamid, status: 'failed', timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: to, errors: [{ code: 131047, title: 'Re-engagement message' }] }] };
    const { callbackId, done } = await h.sim.deliverCallback(failed);
    await done;
    const rec = await waitFor(async () => {
      const r = await record(id);
      return r.sentBody === 'fallback' && r.status === 'sent' ? r : undefined;
    }, { what: 'the fallback sent' });
    expect(rec.history.map((e) => e.status)).toEqual(['queued', 'sending', 'sent', 'failed', 'fallback', 'queued', 'sending', 'sent']);
    // A redelivered callback changes nothing more: one text, one template.
    await (await h.sim.redeliver(callbackId, 2)).done;
    await h.sim.deliverInbound({ from: '905553330098' });
    await waitFor(async () => (await view('905553330098')).lastInboundAt !== null);
    expect(toCbot(to).map((m) => m.type)).toEqual(['text', 'template']);
    expect((await record(id)).status).toBe('sent');
  });

  it('carries X-Relay-Window on both HTTP paths and per batch item', async () => {
    const to = '905553330007';
    expect((await h.send(text(to))).headers.get('x-relay-window')).toBe('unknown');
    await inbound(to);
    // Express's path: a compressed body.
    const res = await fetch(`${h.base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(text(to))),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-relay-window')).toBe('open');
    await rules.setLastInbound('default', '905553330008', Math.floor((Date.now() - 25 * H) / 1000));
    const batch = await fetch(`${h.base}/v1/messages/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [text(to), text('905553330008'), withFallback('905553330008'), text('905553330009')] }),
    });
    const { results } = await json<{ results: { status: number; window?: string; error?: { code: string } }[] }>(batch);
    expect(results.map((r) => r.window ?? r.error?.code)).toEqual(['open', 'outside_customer_service_window', 'closed', 'unknown']);
  });

  it('shows a recipient: window, when it closes, opt-out', async () => {
    const to = '905553330010';
    expect(await view(to)).toEqual({ to, channel: 'default', lastInboundAt: null, window: 'unknown', windowClosesAt: null, optedOut: false, optedOutAt: null });
    const at = Date.now() - H;
    await inbound(to, at);
    const s = Math.floor(at / 1000) * 1000;
    expect(await view(`+${to}`)).toEqual({
      to,
      channel: 'default',
      lastInboundAt: new Date(s).toISOString(),
      window: 'open',
      windowClosesAt: new Date(s + 24 * H).toISOString(),
      optedOut: false,
      optedOutAt: null,
    });
    // An older redelivered message does not move it back.
    await h.sim.deliverInbound({ from: to, timestamp: Math.floor((at - 30 * H) / 1000) });
    await h.sim.deliverInbound({ from: '905553330099' });
    await waitFor(async () => (await view('905553330099')).lastInboundAt !== null);
    expect((await view(to)).lastInboundAt).toBe(new Date(s).toISOString());
  });
});

describe('opt-out', () => {
  it('opts out on STOP (On-Premises and Cloud shapes), refuses sends, fails queued ones, emits events, and opts back in on START', async () => {
    const [a, b] = ['905553340001', '905553340002'];
    await inbound(a);
    await inbound(b);
    // One message for a waits while CBOT is down.
    h.sim.setKnobs({ outageUntil: Date.now() + 60_000 });
    const queued = (await json<{ id: string }>(await h.send(text(a)))).id;
    await h.sim.deliverInbound({ from: a, text: '  Stop ', format: 'onprem' });
    await h.sim.deliverInbound({ from: b, text: 'UNSUBSCRIBE', format: 'cloud' });
    for (const to of [a, b]) await waitFor(async () => (await view(to)).optedOut, { what: `${to} opted out` });
    // CBOT stays down until the queued message has ended: an attempt claimed before the STOP cannot get through.
    expect(await ended(queued)).toMatchObject({ status: 'failed', error: { code: 'recipient_opted_out' } });
    h.sim.setKnobs({ outageUntil: 0 });
    const refused = await h.send({ to: b, type: 'template', template });
    expect(refused.status).toBe(422);
    const body = await json<{ error: { code: string; details: { optedOutAt: string }[] } }>(refused);
    expect(body.error.code).toBe('recipient_opted_out');
    expect(body.error.details[0]?.optedOutAt).toBe((await view(b)).optedOutAt);
    expect(toCbot(a)).toEqual([]);
    const outs = await waitFor(() => {
      const found = events.filter((e) => e.type === 'recipient.opted_out' && [a, b].includes((e.data as { to: string }).to));
      return found.length === 2 ? found : undefined;
    }, { what: 'two opted_out events' });
    expect(outs.find((e) => (e.data as { to: string }).to === a)).toMatchObject({ channel: 'default', data: { channel: 'default', to: a, keyword: 'Stop' } });
    // START opts back in.
    await h.sim.deliverInbound({ from: a, text: 'start' });
    await waitFor(async () => !(await view(a)).optedOut, { what: `${a} opted in` });
    expect((await h.send(text(a))).status).toBe(202);
    await waitFor(() => events.some((e) => e.type === 'recipient.opted_in' && (e.data as { to: string }).to === a));
  });

  it('does not double an event on a redelivered STOP', async () => {
    const to = '905553340003';
    const { callbackId, done } = await h.sim.deliverInbound({ from: to, text: 'STOP' });
    await done;
    await waitFor(async () => (await view(to)).optedOut);
    await (await h.sim.redeliver(callbackId, 2)).done;
    await waitFor(() => events.some((e) => e.type === 'recipient.opted_out' && (e.data as { to: string }).to === to));
    // The redeliveries are fanned out (their message.received events deduplicated) before this check.
    const mine = () => events.filter((e) => (e.data as { from?: string; to?: string }).from === to || (e.data as { to?: string }).to === to);
    await waitFor(() => mine().length >= 2);
    expect(mine().filter((e) => e.type === 'recipient.opted_out')).toHaveLength(1);
  });

  it('lists, adds and removes opt-outs with an admin key', async () => {
    const to = '905553340010';
    expect((await fetch(`${h.base}/v1/opt-outs`)).status).toBe(401);
    expect((await fetch(`${h.base}/v1/opt-outs/${to}`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(401);
    const put = await adminCall(`/v1/opt-outs/%2B${to}`, 'PUT');
    expect(put.status).toBe(200);
    expect(await json(put)).toMatchObject({ to, optedOut: true });
    expect((await h.send(text(to))).status).toBe(422);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { to: string }[]; nextCursor: string | null } = await json(await adminCall(`/v1/opt-outs?limit=1${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.items.length).toBeLessThanOrEqual(1);
      listed.push(...page.items.map((i) => i.to));
      cursor = page.nextCursor;
    } while (cursor);
    expect(listed).toContain(to);
    expect([...listed].sort()).toEqual(listed);
    const del = await adminCall(`/v1/opt-outs/${to}?channel=default`, 'DELETE');
    expect(await json(del)).toMatchObject({ to, optedOut: false, optedOutAt: null });
    expect((await h.send(text(to))).status).toBe(202);
  });
});

describe('hostile input on the new endpoints', () => {
  it('refuses bad keys, recipients, channels, queries and fallbacks with clear errors', async () => {
    const code = async (res: Response) => [res.status, (await json<{ error: { code: string } }>(res)).error.code];
    expect(await code(await fetch(`${h.base}/v1/recipients/905553350001`))).toEqual([401, 'unauthorized']);
    expect(await code(await fetch(`${h.base}/v1/recipients/905553350001`, { headers: { authorization: 'Bearer nope' } }))).toEqual([401, 'unauthorized']);
    expect(await code(await recipient('abc'))).toEqual([400, 'invalid_request']);
    expect(await code(await recipient('1'.repeat(16)))).toEqual([400, 'invalid_request']);
    expect(await code(await recipient('x'.repeat(5000)))).toEqual([400, 'invalid_request']);
    expect(await code(await recipient('905553350001', '?channel=nope'))).toEqual([400, 'unknown_channel']);
    expect(await code(await recipient('905553350001', '?channel=a&channel=b'))).toEqual([400, 'invalid_query']);
    expect(await code(await recipient('905553350001', '?evil=1'))).toEqual([400, 'invalid_query']);
    expect(await code(await adminCall('/v1/opt-outs?cursor=bm9wZQ'))).toEqual([400, 'invalid_query']);
    expect(await code(await adminCall('/v1/opt-outs?limit=0'))).toEqual([400, 'invalid_query']);
    expect(await code(await adminCall('/v1/opt-outs/%2B%2B1', 'PUT'))).toEqual([400, 'invalid_request']);
    expect(await code(await adminCall('/v1/opt-outs/905553350001?channel=__proto__', 'DELETE'))).toEqual([400, 'unknown_channel']);
    for (const fallback of [
      'template',
      null,
      [],
      { type: 'text', text: { body: 'x' } },
      { type: 'template' },
      { type: 'template', template: { name: 'x' } },
      { type: 'template', template, extra: 1 },
    ]) {
      const res = await h.send({ ...text('905553350002'), fallback });
      expect(await code(res)).toEqual([400, 'invalid_message']);
    }
    const res = await h.send({ ...text('905553350002'), fallback: { type: 'template', template: { name: 'x' } } });
    expect((await json<{ error: { details: { path: string }[] } }>(res)).error.details[0]?.path).toMatch(/^fallback\.template/);
    // The fallback is held to the channel's template list like any template send.
    const unknown = await h.send({ ...text('905553350002'), fallback: { type: 'template', template: { name: 'nope', language: { code: 'en_US' } } } });
    const err = (await json<{ error: { code: string; details: { path: string }[] } }>(unknown)).error;
    expect([unknown.status, err.code, err.details[0]?.path]).toEqual([400, 'unknown_template', 'fallback.template.name']);
  });
});

describe('window policies', () => {
  it('warn and off send a free-form message to a closed window', async () => {
    for (const policy of ['warn', 'off']) {
      const other = await startHarness({ env: { WINDOW_POLICY: policy }, redis: h.redis, knobs: { statusCallbacks: false } });
      try {
        const to = '905553360001';
        const r = new Recipients({ redis, prefix: other.prefix });
        await r.setLastInbound('default', to, Math.floor((Date.now() - 25 * H) / 1000));
        const res = await other.send(text(to));
        expect(res.status).toBe(202);
        expect(res.headers.get('x-relay-window')).toBe('closed');
        const id = (await json<{ id: string }>(res)).id;
        await waitFor(async () => (await json<Rec>(await other.get(id))).status === 'sent');
        expect(other.sim.received().map((m) => m.type)).toEqual(['text']);
      } finally {
        await other.close();
      }
    }
  });
});
