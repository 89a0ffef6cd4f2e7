import { describe, expect, it } from 'vitest';
import { eventsFromCallback } from './callback.js';
import { RelayEvent } from './event.js';

const receivedAt = new Date('2024-06-01T10:00:00.000Z');
const eventsOf = (payload: unknown) => eventsFromCallback(payload, receivedAt, JSON.stringify(payload) ?? '');
const typesOf = (payload: unknown) => eventsOf(payload).map((e) => e.type);
const message = (id: string, extra: object = {}) => ({ from: '905551112233', id, timestamp: '1717171700', type: 'text', ...extra });
const cloud = (...values: unknown[]) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '1048', changes: values.map((value) => ({ field: 'messages', value })) }],
});

describe('eventsFromCallback shapes', () => {
  it('keeps unknown message types and status values as events', () => {
    const payload = {
      messages: [
        message('m1', { type: 'voice', voice: { id: 'v' } }),
        message('m2', { type: 'unknown', errors: [{ code: 501, title: 'Unsupported' }] }),
        message('m3', { type: 'system', system: { body: 'changed number' } }),
      ],
      statuses: [
        { id: 's1', status: 'deleted', timestamp: '1717171701' },
        { id: 's1', status: 'warning', timestamp: 1717171702 },
      ],
    };
    const events = eventsOf(payload);
    expect(events.map((e) => e.type)).toEqual([...Array(3).fill('message.received'), 'message.status', 'message.status']);
    expect(events[3]!.data).toBe(payload.statuses[0]);
    expect(events[4]!.occurredAt).toBe(new Date(1717171702_000).toISOString());
  });

  it('ignores unknown top-level keys next to messages', () => {
    expect(typesOf({ messages: [message('m1')], meta: { api_status: 'stable' }, hub: 1 })).toEqual(['message.received']);
  });

  it('leaves contact out when no contacts entry has the sender wa_id', () => {
    const [event] = eventsOf({ contacts: [{ wa_id: 'other' }, 'junk'], messages: [message('m1')] });
    expect(event).not.toHaveProperty('contact');
    expect(event).not.toHaveProperty('metadata');
  });

  it('turns a payload of unknown shape into exactly one unrecognized event holding it', () => {
    for (const payload of [{ hello: 'world' }, { contacts: [{ wa_id: '1' }] }, { messages: [] }, 'text', 42, null, [], [1]]) {
      const body = JSON.stringify(payload);
      const events = eventsFromCallback(payload, receivedAt, body);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'unrecognized', occurredAt: receivedAt.toISOString(), data: payload });
      expect(events[0]!.id).toBe(eventsFromCallback(JSON.parse(body), new Date(), body)[0]!.id);
    }
  });

  it('keeps On-Premises system errors as one unrecognized event holding the whole payload', () => {
    const payload = { errors: [{ code: 1005, title: 'Access denied' }], messages: [message('m1')] };
    const events = eventsOf(payload);
    expect(events.map((e) => e.type)).toEqual(['message.received', 'unrecognized']);
    expect(events[1]!.data).toBe(payload);
  });

  it('moves a message without a string id into its own unrecognized event', () => {
    const payload = { messages: [message('m1'), { id: 7 }, null], statuses: [{ id: 's1' }] };
    const events = eventsOf(payload);
    expect(events.map((e) => e.type)).toEqual(['message.received', 'unrecognized', 'unrecognized', 'unrecognized']);
    expect(events.slice(1).map((e) => e.data)).toEqual([{ id: 7 }, null, { id: 's1' }]);
  });

  it('keeps the whole payload when messages or statuses is not an array', () => {
    const payload = { messages: { id: 'm1' } };
    expect(eventsOf(payload)).toMatchObject([{ type: 'unrecognized', data: payload }]);
  });

  it('walks every Cloud entry and change; a template update is typed, a change without messages or statuses is unrecognized', () => {
    const metadata = { phone_number_id: '1100' };
    const templateUpdate = { event: 'APPROVED', message_template_id: 9 };
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        { id: 'a', changes: [{ field: 'messages', value: { metadata, messages: [message('m1')] } }] },
        { id: 'b', changes: [
          { field: 'messages', value: { metadata, statuses: [{ id: 's1', status: 'sent' }] } },
          { field: 'message_template_status_update', value: templateUpdate },
        ] },
        { id: 'c', changes: [{ field: 'messages', value: { metadata, errors: [{ code: 131000 }] } }] },
      ],
    };
    const events = eventsOf(payload);
    expect(events.map((e) => e.type)).toEqual(['message.received', 'message.status', 'template.status', 'unrecognized']);
    expect(events[0]!.metadata).toEqual(metadata);
    expect(events[2]).toMatchObject({ field: 'message_template_status_update', data: templateUpdate });
    expect(events[3]).toMatchObject({ metadata, data: payload.entry[2]!.changes[0]!.value });
  });

  it('keeps a Cloud envelope with no entries or malformed changes', () => {
    const empty = { object: 'whatsapp_business_account', entry: [] };
    expect(eventsOf(empty)).toMatchObject([{ type: 'unrecognized', data: empty }]);
    expect(eventsOf({ entry: [{ id: 'x' }, { changes: [null] }] }).map((e) => e.data)).toEqual([{ id: 'x' }, null]);
    expect(typesOf(cloud({ messaging_product: 'whatsapp', metadata: 'x', messages: [message('m1')] }))).toEqual(['message.received']);
  });

  it('emits one event for a message repeated in one payload', () => {
    expect(eventsOf({ messages: [message('m1'), message('m1')] })).toHaveLength(1);
  });

  it('falls back to receivedAt for a missing or unusable timestamp', () => {
    for (const timestamp of [undefined, '', 'soon', '-5', 0, -1, 1e300, '1e3', '99999999999999999', null, {}]) {
      const [event] = eventsOf({ messages: [message('m1', { timestamp })] });
      expect(event!.occurredAt).toBe(receivedAt.toISOString());
    }
  });

  it('refuses an invalid receivedAt, a caller bug rather than a payload', () => {
    expect(() => eventsFromCallback({}, new Date('nope'), '{}')).toThrow(RangeError);
  });
});

describe('eventsFromCallback on garbage', () => {
  const garbage: unknown[] = [
    undefined, null, true, 0, -1, NaN, '', 'x', [], [null], {}, { messages: null }, { messages: 'x' },
    { messages: [[]] }, { statuses: [{ id: 1, status: 2 }] }, { entry: null }, { entry: 'x' }, { entry: [[]] },
    { entry: [{ changes: 'x' }] }, { entry: [{ changes: [{ value: [] }] }] }, { contacts: null, messages: [{ id: '' }] },
    { object: 'whatsapp_business_account' },
    JSON.parse('{"__proto__":{"polluted":1,"messages":[{"id":"p"}]},"constructor":{"prototype":{"polluted":1}}}'),
    JSON.parse('{"messages":[{"id":"m","__proto__":{"polluted":1},"timestamp":"1"}],"contacts":[{"__proto__":{"wa_id":"x"}}]}'),
    JSON.parse('{"entry":[{"changes":[{"value":{"metadata":{"__proto__":{"polluted":1}},"messages":[{"id":"m"}]}}]}]}'),
  ];

  function randomJson(depth: number, next: () => number): unknown {
    const pick = Math.floor(next() * (depth > 3 ? 5 : 8));
    const keys = ['messages', 'statuses', 'errors', 'contacts', 'entry', 'changes', 'value', 'id', 'status', 'timestamp', '__proto__', 'from', 'wa_id', 'metadata'];
    switch (pick) {
      case 0: return null;
      case 1: return next() < 0.5;
      case 2: return Math.floor(next() * 2e9) - 1e3;
      case 3: return ['', 'sent', '1717171700', 'x'.repeat(Math.floor(next() * 5))][Math.floor(next() * 4)];
      case 4: return keys[Math.floor(next() * keys.length)];
      case 5: case 6: return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(depth + 1, next));
      default: return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 5) }, () => [keys[Math.floor(next() * keys.length)], randomJson(depth + 1, next)]),
      );
    }
  }

  it('never throws, always keeps something, never pollutes Object.prototype', () => {
    let seed = 42;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Through JSON.parse, as the relay gets them: `__proto__` becomes an own key.
    const fuzzed = Array.from({ length: 2000 }, () => JSON.parse(JSON.stringify(randomJson(0, next)) ?? 'null'));
    for (const payload of [...garbage, ...fuzzed]) {
      const events = eventsOf(payload);
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) expect(RelayEvent.safeParse(event).success).toBe(true);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('messages');
  });
});
