import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

type Rec = { id: string; status: string; tag?: string; sendAt?: string; history: { status: string; at: string }[]; caller?: string };
type ErrorBody = { error: { code: string; message: string; details?: { path?: string; message: string }[] } };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
afterEach(() => {
  h.sim.setKnobs({ latencyMs: 0 });
});

const text = (to: string, body: string) => ({ to, type: 'text', text: { body } });
const accepted = async (res: Response) => {
  expect(res.status).toBe(202);
  return json<{ id: string; status: string }>(res);
};
const record = async (id: string, key = API_KEY) => json<Rec>(await h.get(id, key));
/** When CBOT received the message with this text body (undefined: not yet). */
const arrival = (body: string) => h.sim.received().find((m) => (m.body.text as { body?: string } | undefined)?.body === body);
const arrivedAt = async (body: string) => Date.parse((await waitFor(() => arrival(body), { what: `"${body}" at CBOT` })).receivedAt);
const call = (method: string, path: string, opts: { key?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) =>
  fetch(`${h.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${opts.key ?? API_KEY}`, 'content-type': 'application/json', ...opts.headers },
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
const cancelTag = (body: unknown, key = API_KEY) => call('POST', '/v1/messages/cancel', { key, body: JSON.stringify(body) });

describe('scheduling (X-Relay-Send-At)', () => {
  it('holds a message as scheduled until its time, then sends it within a second, after a later immediate one', async () => {
    const to = '905557770001';
    const sendAt = Date.now() + 1500;
    const sched = await accepted(await h.send(text(to, 'sched-1'), { 'X-Relay-Send-At': new Date(sendAt).toISOString() }));
    expect(sched.status).toBe('scheduled');
    expect(await record(sched.id)).toMatchObject({ status: 'scheduled', sendAt: new Date(sendAt).toISOString() });
    // Accepted after the scheduled one, to the same recipient: it does not wait for it.
    const now = await accepted(await h.send(text(to, 'now-1')));
    expect(now.status).toBe('queued');
    const nowAt = await arrivedAt('now-1');
    expect(nowAt).toBeLessThan(sendAt);
    const at = await arrivedAt('sched-1');
    expect(at).toBeGreaterThanOrEqual(sendAt);
    expect(at - sendAt).toBeLessThan(1000);
    const rec = await waitFor(async () => {
      const r = await record(sched.id);
      return r.history.some((e) => e.status === 'sent') ? r : undefined;
    });
    expect(rec.history.map((e) => e.status).slice(0, 4)).toEqual(['scheduled', 'queued', 'sending', 'sent']);
  });

  it('sends two scheduled messages in due order whatever their acceptance order; a past time is now', async () => {
    const to = '905557770002';
    const t = Date.now();
    await accepted(await h.send(text(to, 'due-late'), { 'X-Relay-Send-At': new Date(t + 1600).toISOString() }));
    await accepted(await h.send(text(to, 'due-early'), { 'X-Relay-Send-At': new Date(t + 800).toISOString().replace('Z', '+00:00') }));
    const past = await accepted(await h.send(text(to, 'due-past'), { 'X-Relay-Send-At': new Date(t - 60_000).toISOString() }));
    expect(past.status).toBe('queued');
    const [early, late, pastAt] = [await arrivedAt('due-early'), await arrivedAt('due-late'), await arrivedAt('due-past')];
    expect(pastAt).toBeLessThan(early);
    expect(early).toBeGreaterThanOrEqual(t + 800);
    expect(late).toBeGreaterThan(early);
    expect(late).toBeGreaterThanOrEqual(t + 1600);
  });

  it('refuses a time more than 30 days ahead and a malformed one, on the hot path and through express alike', async () => {
    const far = new Date(Date.now() + 31 * 86_400_000).toISOString();
    const body = JSON.stringify(text('905557770003', 'never'));
    const [hot, viaExpress] = await Promise.all([
      h.send(body, { 'X-Relay-Send-At': far }),
      call('POST', '/v1/messages', { body: gzipSync(body), headers: { 'X-Relay-Send-At': far, 'content-encoding': 'gzip' } }),
    ]);
    expect([hot.status, viaExpress.status]).toEqual([400, 400]);
    const err = await json<ErrorBody>(hot);
    expect(err.error.code).toBe('send_at_too_far');
    expect(await json(viaExpress)).toEqual(err);
    for (const bad of ['tomorrow', '2026-02-30T09:00:00Z', '2026-12-24T09:00', '1733475600', '2026-12-24T09:00:00Z, 2026-12-25T09:00:00Z', 'x'.repeat(5000)]) {
      const res = await h.send(body, { 'X-Relay-Send-At': bad });
      expect(res.status, bad.slice(0, 40)).toBe(400);
      expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 'invalid_header', details: [{ path: 'X-Relay-Send-At' }] });
    }
    for (const bad of ['', 'has space', 'x'.repeat(65), 'semi;colon', 'ünï']) {
      const res = await h.send(body, { 'X-Relay-Tag': bad });
      expect(res.status, bad).toBe(400);
      expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 'invalid_header', details: [{ path: 'X-Relay-Tag' }] });
    }
    expect(arrival('never')).toBeUndefined();
  });

  it('takes sendAt and tag per batch item, checked like the headers', async () => {
    const sendAt = new Date(Date.now() + 60_000).toISOString();
    const res = await call('POST', '/v1/messages/batch', {
      body: JSON.stringify({
        messages: [
          { ...text('905557770004', 'b1'), sendAt, tag: 'batch-a' },
          { ...text('905557770004', 'b2'), tag: 'batch-a' },
          { ...text('905557770004', 'b3'), sendAt: 'soon' },
          { ...text('905557770004', 'b4'), tag: 7 },
        ],
      }),
    });
    expect(res.status).toBe(207);
    const { results } = await json<{ results: { status: number; id?: string; error?: { code: string } }[] }>(res);
    expect(results.map((r) => r.status)).toEqual([202, 202, 400, 400]);
    expect(results[2]!.error?.code).toBe('invalid_header');
    expect(results[3]!.error?.code).toBe('invalid_message');
    expect(await record(results[0]!.id!)).toMatchObject({ status: 'scheduled', tag: 'batch-a', sendAt });
    expect((await record(results[1]!.id!)).tag).toBe('batch-a');
  });
});

describe('cancel', () => {
  it('cancels a queued message (200 with the record); it never reaches CBOT', async () => {
    const to = '905557770101';
    h.sim.setKnobs({ latencyMs: 400 });
    const first = await accepted(await h.send(text(to, 'c-first')));
    const second = await accepted(await h.send(text(to, 'c-second')));
    // The first is in flight (CBOT answers slowly): the second waits behind it, queued.
    await waitFor(async () => (await record(first.id)).status === 'sending', { what: 'first sending' });
    const res = await call('DELETE', `/v1/messages/${second.id}`);
    expect(res.status).toBe(200);
    const rec = await json<Rec>(res);
    expect(rec).toMatchObject({ id: second.id, status: 'canceled' });
    expect(rec.caller).toBeUndefined();
    expect(rec.history.map((e) => e.status)).toEqual(['queued', 'canceled']);
    h.sim.setKnobs({ latencyMs: 0 });
    const third = await accepted(await h.send(text(to, 'c-third')));
    await arrivedAt('c-third');
    expect(arrival('c-second')).toBeUndefined();
    expect((await record(third.id)).status).not.toBe('canceled');
    expect((await record(second.id)).status).toBe('canceled');
    // Canceled is final.
    const again = await call('DELETE', `/v1/messages/${second.id}`);
    expect(again.status).toBe(409);
    expect((await json<ErrorBody>(again)).error).toMatchObject({ code: 'not_cancelable', details: [{ path: 'status', message: 'canceled' }] });
  });

  it('answers 409 for a message already sending or sent, with its status', async () => {
    h.sim.setKnobs({ latencyMs: 800 });
    const m = await accepted(await h.send(text('905557770102', 'c-inflight')));
    await waitFor(async () => (await record(m.id)).status === 'sending', { what: 'sending' });
    const res = await call('DELETE', `/v1/messages/${m.id}`);
    expect(res.status).toBe(409);
    expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 'not_cancelable', details: [{ path: 'status', message: 'sending' }] });
    await arrivedAt('c-inflight');
    await waitFor(async () => (await record(m.id)).status !== 'sending', { what: 'sent' });
    const after = await call('DELETE', `/v1/messages/${m.id}`);
    expect(after.status).toBe(409);
  });

  it("lets a caller cancel only its own messages, an admin anyone's; unknown ids and missing keys are refused", async () => {
    const sendAt = new Date(Date.now() + 60_000).toISOString();
    const m = await accepted(await h.send(text('905557770103', 'c-owner'), { 'X-Relay-Send-At': sendAt }));
    expect((await call('DELETE', `/v1/messages/${m.id}`, { key: OTHER_API_KEY })).status).toBe(404);
    expect((await call('DELETE', '/v1/messages/msg_000000000aaaaaaaaaaaaaaaa')).status).toBe(404);
    expect((await call('DELETE', '/v1/messages/not-an-id')).status).toBe(404);
    expect((await fetch(`${h.base}/v1/messages/${m.id}`, { method: 'DELETE' })).status).toBe(401);
    expect((await call('DELETE', `/v1/messages/${m.id}`, { key: 'wrong-key-123456' })).status).toBe(401);
    const byAdmin = await call('DELETE', `/v1/messages/${m.id}`, { key: ADMIN_KEY });
    expect(byAdmin.status).toBe(200);
    expect(await json(byAdmin)).toMatchObject({ status: 'canceled', caller: 'crm', history: [{ status: 'scheduled' }, { status: 'canceled' }] });
  });

  it('by tag: cancels every unsent message of the caller with it, lists them by tag, and leaves other callers alone', async () => {
    const sendAt = new Date(Date.now() + 60_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const headers: Record<string, string> = { 'X-Relay-Tag': 'spring-sale' };
      if (i % 2 === 0) headers['X-Relay-Send-At'] = sendAt;
      ids.push((await accepted(await h.send(text(`90555777020${i % 4}`, `tag-${i}`), headers))).id);
    }
    const others = await accepted(
      await call('POST', '/v1/messages', { key: OTHER_API_KEY, body: JSON.stringify(text('905557770299', 'tag-other')), headers: { 'X-Relay-Tag': 'spring-sale', 'X-Relay-Send-At': sendAt } }),
    );
    const res = await cancelTag({ tag: 'spring-sale' });
    expect(res.status).toBe(200);
    const { canceled } = await json<{ canceled: number }>(res);
    // The immediate ones may have gone out before the cancel ran; every one counted never does.
    const recs = await Promise.all(ids.map((id) => record(id)));
    expect(recs.filter((r) => r.status === 'canceled')).toHaveLength(canceled);
    expect(canceled).toBeGreaterThanOrEqual(6);
    for (const r of recs.filter((x) => x.status === 'canceled')) expect(arrival(`tag-${ids.indexOf(r.id)}`)).toBeUndefined();
    expect((await record(others.id, OTHER_API_KEY)).status).toBe('scheduled');

    const list = await json<{ items: Rec[] }>(await call('GET', '/v1/messages?tag=spring-sale&limit=50'));
    expect(list.items.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(list.items.every((r) => r.tag === 'spring-sale')).toBe(true);
    const canceledOnly = await json<{ items: Rec[] }>(await call('GET', '/v1/messages?tag=spring-sale&status=canceled'));
    expect(canceledOnly.items).toHaveLength(canceled);
    expect((await call('GET', '/v1/messages?tag=bad%20tag')).status).toBe(400);

    // An admin key names the caller (or cancels every caller's).
    expect(await json(await cancelTag({ tag: 'spring-sale', caller: 'other' }, ADMIN_KEY))).toEqual({ canceled: 1 });
    expect((await record(others.id, OTHER_API_KEY)).status).toBe('canceled');
    expect(await json(await cancelTag({ tag: 'spring-sale' }, ADMIN_KEY))).toEqual({ canceled: 0 });
  });

  it('refuses bad cancel requests with clear errors', async () => {
    const cases: [string, string | Buffer, Record<string, string>, number, string][] = [
      ['malformed JSON', '{"tag":', {}, 400, 'invalid_json'],
      ['no tag', '{}', {}, 400, 'invalid_request'],
      ['tag of the wrong type', '{"tag": 5}', {}, 400, 'invalid_request'],
      ['an invalid tag', '{"tag": "no spaces"}', {}, 400, 'invalid_request'],
      ['an unknown field', '{"tag": "a", "all": true}', {}, 400, 'invalid_request'],
      ['a caller named by a caller key', '{"tag": "a", "caller": "other"}', {}, 400, 'invalid_request'],
      ['a huge body', JSON.stringify({ tag: 'a', pad: 'x'.repeat(100_000) }), {}, 413, 'payload_too_large'],
      ['not JSON', 'tag=a', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    ];
    for (const [what, body, headers, status, code] of cases) {
      const res = await call('POST', '/v1/messages/cancel', { body, headers });
      expect(res.status, what).toBe(status);
      expect((await json<ErrorBody>(res)).error.code, what).toBe(code);
    }
    expect((await fetch(`${h.base}/v1/messages/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tag":"a"}' })).status).toBe(401);
  });
});
