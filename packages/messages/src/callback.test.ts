import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OVER_CAP_REASON, eventsFromCallback } from './callback.js';
import { RelayEvent } from './event.js';

type Json = Record<string, any>; // fixtures are read by path

const raw = (name: string) => readFileSync(new URL(`./testdata/samples/inbound/${name}.json`, import.meta.url), 'utf8');
const sample = (name: string): Json => JSON.parse(raw(name));
const receivedAt = new Date('2024-06-01T10:00:00.000Z');
const eventsOf = (payload: unknown, body = JSON.stringify(payload) ?? '') => eventsFromCallback(payload, receivedAt, body);
const fromSample = (name: string) => eventsOf(sample(name), raw(name));
const expectedId = (seed: string) => `evt_${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function expectWellFormed(events: RelayEvent[]) {
  for (const event of events) {
    expect(RelayEvent.parse(event)).toEqual(event);
    expect(RelayEvent.parse(JSON.parse(JSON.stringify(event)))).toEqual(JSON.parse(JSON.stringify(event)));
  }
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

describe('eventsFromCallback with the shared inbound samples', () => {
  it('t01: one message.received, the sender contact joined by wa_id', () => {
    const payload = sample('t01-text');
    const events = eventsOf(payload);
    expect(events).toEqual([
      {
        id: expectedId('message\nABGHkFVVURIjAhBP3kQ5xS0y7Ulz'),
        type: 'message.received',
        occurredAt: iso(1717171700),
        receivedAt: receivedAt.toISOString(),
        contact: payload.contacts[0],
        data: payload.messages[0],
      },
    ]);
    expect(events[0]!.data).toBe(payload.messages[0]);
    expectWellFormed(events);
  });

  it('t03: media id, mime type, caption and every other key kept', () => {
    const [event] = fromSample('t03-image-caption');
    const image = (event!.data as Json).image;
    expect(image).toMatchObject({ id: '7d3a91bc-0f2e-4c55-a1b9-4d2c8e6f7a10', mime_type: 'image/jpeg', caption: 'Kutu hasarlı geldi' });
    expect(event!.data).toEqual(sample('t03-image-caption').messages[0]);
  });

  it('t06: latitude and longitude stay numbers with full precision', () => {
    const [event] = fromSample('t06-location');
    const location = (event!.data as Json).location;
    expect(location.latitude).toBe(40.990368);
    expect(location.longitude).toBe(29.029239);
    expect(JSON.stringify(event)).toContain('"latitude":40.990368,"longitude":29.029239');
  });

  it('t07: the quoted message and the button reply kept', () => {
    const [event] = fromSample('t07-interactive-button-reply');
    expect(event!.data).toMatchObject({
      context: { id: 'gBEGkFVVURIjAgnR4sT9pQ2wXyA' },
      interactive: { type: 'button_reply', button_reply: { id: 'slot_ok', title: 'Onayla' } },
    });
  });

  it('t11: two events, each contact matched by wa_id, also with the contacts reversed', () => {
    const payload = sample('t11-batch-two-senders');
    const reversed = { ...payload, contacts: [...payload.contacts].reverse() };
    for (const p of [payload, reversed]) {
      const events = eventsOf(p);
      expect(events.map((e) => e.type)).toEqual(['message.received', 'message.received']);
      expect(events.map((e) => (e.data as Json).id)).toEqual(payload.messages.map((m: Json) => m.id));
      expect(events.map((e) => e.contact?.['profile'])).toEqual([{ name: 'Ayşe Yılmaz' }, { name: 'Mehmet Demir' }]);
      for (const e of events) expect(e.contact?.['wa_id']).toBe((e.data as Json).from);
    }
  });

  it('t12–t14: one message.status each, distinct ids, expiration_timestamp stays a number', () => {
    const names = ['t12-status-sent', 't13-status-delivered', 't14-status-read'];
    const events = names.flatMap(fromSample);
    expect(events.map((e) => [e.type, (e.data as Json).status])).toEqual([
      ['message.status', 'sent'],
      ['message.status', 'delivered'],
      ['message.status', 'read'],
    ]);
    expect(events[0]!.id).toBe(expectedId('status\ngBEGkFVVURIjAglUkoXGn5bLqiA\nsent'));
    expect((events[0]!.data as Json).conversation.expiration_timestamp).toBe(1717258900);
    expect(events[0]!.occurredAt).toBe(iso(1717172500));
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expectWellFormed(events);
  });

  it('t15: a failed status keeps its error code', () => {
    const [event, ...rest] = fromSample('t15-status-failed-470');
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type: 'message.status', data: { status: 'failed', errors: [{ code: 470 }] } });
  });

  it('t19: the Cloud envelope gives one message.received with metadata and contact', () => {
    const payload = sample('t19-cloud-text-signed');
    const value = payload.entry[0].changes[0].value;
    const events = fromSample('t19-cloud-text-signed');
    expect(events).toEqual([
      {
        id: expectedId(`message\n${value.messages[0].id}`),
        type: 'message.received',
        occurredAt: iso(1717171800),
        receivedAt: receivedAt.toISOString(),
        contact: value.contacts[0],
        metadata: { display_phone_number: '908501234567', phone_number_id: '110000000000001' },
        data: value.messages[0],
      },
    ]);
  });

  it('gives the same ids for a redelivered payload, whatever its receivedAt', () => {
    for (const name of ['t01-text', 't11-batch-two-senders', 't12-status-sent', 't19-cloud-text-signed']) {
      const first = eventsFromCallback(sample(name), receivedAt, raw(name));
      const again = eventsFromCallback(sample(name), new Date('2024-06-02T00:00:00Z'), raw(name));
      expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    }
  });
});

describe('eventsFromCallback limits', () => {
  const msg = (i: number, from = '905551112233') => ({ id: `wamid.m${i}`, from, timestamp: '1717171700', type: 'text', text: { body: `m${i}` } });
  const st = (i: number) => ({ id: `wamid.s${i}`, status: 'delivered', timestamp: '1717171700', recipient_id: '905551112233' });
  const limits = { maxItems: 3, contactMaxBytes: 4096 };

  it('makes items past maxItems one unrecognized event holding exactly them, in order', () => {
    const payload = { contacts: [{ wa_id: '905551112233', profile: { name: 'Ayşe' } }], messages: [0, 1].map((i) => msg(i)), statuses: [0, 1, 2, 3].map(st) };
    const events = eventsFromCallback(payload, receivedAt, JSON.stringify(payload), limits);
    expect(events.map((e) => e.type)).toEqual(['message.received', 'message.received', 'message.status', 'unrecognized']);
    const over = events[3]!;
    expect(over.reason).toBe(OVER_CAP_REASON);
    expect(over.data).toEqual({ contacts: payload.contacts, statuses: payload.statuses.slice(1) });
    // Every item is in exactly one event.
    const carried = [...events.slice(0, 3).map((e) => (e.data as Json).id), ...(over.data as Json).statuses.map((x: Json) => x.id)];
    expect(carried.sort()).toEqual([...payload.messages, ...payload.statuses].map((x) => x.id).sort());
    expectWellFormed(events);
    // Deterministic: a redelivery yields the same ids.
    expect(eventsFromCallback(payload, receivedAt, JSON.stringify(payload), limits).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('counts the cap across a Cloud envelope and invalid items alike', () => {
    const change = (items: unknown[]) => ({ value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '1' }, messages: items } });
    const payload = { object: 'whatsapp_business_account', entry: [{ changes: [change([msg(0), { no: 'id' }]), change([msg(1), msg(2)])] }] };
    const events = eventsFromCallback(payload, receivedAt, JSON.stringify(payload), limits);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['message.received', undefined],
      ['unrecognized', undefined],
      ['message.received', undefined],
      ['unrecognized', OVER_CAP_REASON],
    ]);
    expect((events[3]!.data as Json).messages).toEqual([msg(2)]);
    expect(events[3]!.metadata).toEqual({ phone_number_id: '1' });
  });

  it('copies a contact whole up to contactMaxBytes, else wa_id and name only, marked truncated', () => {
    const small = { wa_id: '905551112233', profile: { name: 'Ayşe' } };
    const big = { wa_id: '+905551112244', profile: { name: 'M'.repeat(300) }, extra: 'x'.repeat(20_000) };
    const payload = { contacts: [small, big], messages: [msg(0), msg(1, '905551112244')] };
    const events = eventsFromCallback(payload, receivedAt, JSON.stringify(payload), { maxItems: 1000, contactMaxBytes: 4096 });
    expect(events[0]!.contact).toBe(small);
    expect(events[1]!.contact).toEqual({ wa_id: '+905551112244', profile: { name: 'M'.repeat(256) }, truncated: true });
  });

  it('keeps a 2,000-message callback with a 20 KB contact small: ~0.2 MB of events instead of ~40 MB', () => {
    const contact = { wa_id: '905551112233', profile: { name: 'Ayşe' }, extra: 'x'.repeat(20_000) };
    const payload = { contacts: [contact], messages: Array.from({ length: 2000 }, (_, i) => msg(i)) };
    const body = JSON.stringify(payload);
    const events = eventsFromCallback(payload, receivedAt, body, { maxItems: 1000, contactMaxBytes: 4096 });
    expect(events).toHaveLength(1001);
    const bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    expect(bytes).toBeLessThan(body.length + 400 * 1000);
    expect((events[1000]!.data as Json).messages).toHaveLength(1000);
  });
});

