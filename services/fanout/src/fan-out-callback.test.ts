import { describe, expect, it } from 'vitest';
import type { RelayEvent } from '@cbot-relay/messages';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { fanOutCallback } from './fan-out-callback.js';
import type { FanOutDeps } from './fan-out-callback.js';
import { INBOUND_JOB_OPTIONS } from './index.js';
import { subscriberJobOptions } from './job-options.js';
import { PUSH_BACKOFF_TYPE } from './push-backoff.js';
import { parseSubscriptions } from './subscriptions.js';
import type { Subscriber } from './subscriptions.js';
import { readSample } from './test-support/samples.js';

const subscribers = parseSubscriptions({
  subscribers: [
    { name: 'crm', kind: 'queue', types: ['message.received'] },
    { name: 'all', kind: 'queue' },
  ],
}).subscribers;

/** A fake queue set: remembers (subscriber, event id) pairs like the dedupe keys do. */
function fakeDeps(relayIds: Record<string, string> = {}) {
  const added: [string, RelayEvent][] = [];
  const seen = new Set<string>();
  const applied: [string, string, unknown][] = [];
  const deps: FanOutDeps = {
    subscribers,
    store: {
      applyStatus: async (wamid, status, _now, errors) => {
        applied.push([wamid, status, errors]);
        return { relayId: relayIds[wamid], applied: true };
      },
    },
    add: async (sub: Subscriber, event: RelayEvent) => {
      const key = `${sub.name}/${event.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      added.push([sub.name, event]);
      return true;
    },
    now: () => 1_717_172_600_000,
    metrics: createMetrics(),
    log: createLogger({ level: 'silent' }),
  };
  return { deps, added, applied };
}

const job = (sample: string) => ({ raw: readSample(sample), receivedAt: 1_717_172_600_000 });

describe('fanOutCallback', () => {
  it('puts a media reference on events of media messages (either shape), and none on others', async () => {
    const { deps, added } = fakeDeps();
    const onprem = { messages: [{ from: '905551112233', id: 'ABGH1', type: 'voice', voice: { id: 'm-1', mime_type: 'audio/ogg; codecs=opus' } }, { from: '905551112233', id: 'ABGH2', type: 'text', text: { body: 'hi' } }] };
    await fanOutCallback({ raw: JSON.stringify(onprem), receivedAt: 1_717_172_600_000, channel: 'sales' }, deps);
    const cloud = { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { messages: [{ from: '905551112233', id: 'wamid.X', type: 'image', image: { id: '1037', mime_type: 'image/jpeg' } }] } }] }] };
    await fanOutCallback({ raw: JSON.stringify(cloud), receivedAt: 1_717_172_600_000 }, deps);
    const media = added.filter(([sub]) => sub === 'all').map(([, e]) => e.media);
    expect(media).toEqual([
      { id: 'm-1', mimeType: 'audio/ogg; codecs=opus', url: '/v1/media/m-1?channel=sales' },
      undefined,
      { id: '1037', mimeType: 'image/jpeg', url: '/v1/media/1037?channel=default' },
    ]);
  });

  it('sends each event to the subscribers whose types match, once', async () => {
    const { deps, added } = fakeDeps();
    await expect(fanOutCallback(job('t11-batch-two-senders'), deps)).resolves.toEqual({ events: 2, duplicates: 0 });
    await expect(fanOutCallback(job('t11-batch-two-senders'), deps)).resolves.toEqual({ events: 0, duplicates: 2 });
    await expect(fanOutCallback(job('t12-status-sent'), deps)).resolves.toEqual({ events: 1, duplicates: 0 });
    expect(added.map(([sub, e]) => `${sub}:${e.type}`)).toEqual([
      'crm:message.received',
      'all:message.received',
      'crm:message.received',
      'all:message.received',
      'all:message.status',
    ]);
    expect((await deps.metrics.duplicateEvents.get()).values[0]?.value).toBe(2);
  });

  it('applies statuses to the store and names the relay id on events for our messages', async () => {
    const { deps, added, applied } = fakeDeps({ gBEGkFVVmZiHdwIJ5cQyR8wTnEo: 'msg_0042' });
    await fanOutCallback(job('t15-status-failed-470'), deps);
    expect(applied).toEqual([['gBEGkFVVmZiHdwIJ5cQyR8wTnEo', 'failed', [expect.objectContaining({ code: 470 })]]]);
    expect(added[0]?.[1]).toMatchObject({ type: 'message.status', relayMessageId: 'msg_0042' });
    await fanOutCallback(job('t14-status-read'), deps);
    expect(added[1]?.[1].relayMessageId).toBeUndefined();
  });

  it('applies only the first CALLBACK_MAX_ITEMS statuses; the rest reach subscribers in one unrecognized event', async () => {
    const { deps, added, applied } = fakeDeps();
    const statuses = Array.from({ length: 20 }, (_, i) => ({ id: `wamid.${i}`, status: 'delivered', recipient_id: '905551112233' }));
    const result = await fanOutCallback({ raw: JSON.stringify({ statuses }), receivedAt: 1 }, { ...deps, limits: { maxItems: 5, contactMaxBytes: 4096 } });
    expect(applied.map(([wamid]) => wamid)).toEqual(statuses.slice(0, 5).map((s) => s.id));
    expect(result).toEqual({ events: 6, duplicates: 0 });
    const over = added.find(([, e]) => e.type === 'unrecognized')![1];
    expect(over).toMatchObject({ reason: 'callback_max_items', data: { statuses: statuses.slice(5) } });
    expect((await deps.metrics.callbackItemsOverCap.get()).values[0]?.value).toBe(15);
  });

  it('gives a subscriber listing channels only events of those (an event without one is channel "default")', async () => {
    const { deps, added } = fakeDeps();
    const byChannel = parseSubscriptions({
      subscribers: [
        { name: 'sales', kind: 'queue', channels: ['sales'] },
        { name: 'dflt', kind: 'queue', channels: ['default', 'sales'] },
        { name: 'any', kind: 'queue', channels: ['*'] },
      ],
    }).subscribers;
    await fanOutCallback(job('t01-text'), { ...deps, subscribers: byChannel });
    expect(added.map(([sub]) => sub)).toEqual(['dflt', 'any']);
  });

  it('keeps a body that is not JSON as an unrecognized event', async () => {
    const { deps, added } = fakeDeps();
    await fanOutCallback({ raw: '<xml/>', receivedAt: 1 }, deps);
    expect(added).toEqual([['all', expect.objectContaining({ type: 'unrecognized', data: '<xml/>' })]]);
  });
});

describe('job options', () => {
  const event = { id: `evt_${'1'.repeat(32)}`, type: 'message.received', occurredAt: '', receivedAt: '', data: null } as const;
  const cfg = { pushMaxAttempts: 20, dedupeTtlS: 604_800 };

  it('keys every subscriber job and its dedupe by the event id', () => {
    const http = parseSubscriptions({ subscribers: [{ name: 'h', kind: 'http', url: 'https://x.example/', secret: 'a-long-shared-secret' }] }).subscribers[0]!;
    expect(subscriberJobOptions(http, event, cfg)).toEqual({
      jobId: event.id,
      deduplication: { id: event.id, ttl: 604_800_000 },
      attempts: 20,
      backoff: { type: PUSH_BACKOFF_TYPE },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 604_800 },
    });
    expect(subscriberJobOptions(subscribers[0]!, event, cfg)).toMatchObject({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } });
    expect(INBOUND_JOB_OPTIONS).toEqual({ attempts: 10, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: { age: 604_800 } });
  });
});

describe('fanOutCallback: pricing and template events', () => {
  it('passes a status\'s pricing to the store and counts the message when the store counted it', async () => {
    const { deps } = fakeDeps();
    const priced: unknown[] = [];
    deps.store = {
      applyStatus: async (...args) => {
        priced.push(args[7]);
        return { relayId: 'msg_1', applied: true, ...(priced.length === 1 ? { pricedFor: 'crm' } : {}) };
      },
    };
    const status = (s: string) => JSON.stringify({ statuses: [{ id: 'wamid.1', status: s, recipient_id: '9055', pricing: { billable: true, pricing_model: 'CBP', category: 'utility' } }] });
    await fanOutCallback({ raw: status('sent'), receivedAt: 1 }, deps);
    await fanOutCallback({ raw: status('delivered'), receivedAt: 2 }, deps);
    expect(priced).toEqual([
      { billable: true, model: 'CBP', category: 'utility', type: 'regular' },
      { billable: true, model: 'CBP', category: 'utility', type: 'regular' },
    ]);
    expect((await deps.metrics.messagesPriced.get()).values).toEqual([
      expect.objectContaining({ value: 1, labels: { channel: 'default', caller: 'crm', category: 'utility', type: 'regular' } }),
    ]);
  });

  it('marks the channel\'s template list changed on each template.status event, and not on other fields', async () => {
    const { deps, added } = fakeDeps();
    const changed: string[] = [];
    deps.templatesChanged = async (channel) => void changed.push(channel);
    const change = (field: string) =>
      JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'W', time: 1, changes: [{ field, value: { event: 'APPROVED', message_template_name: 'x' } }] }] });
    await fanOutCallback({ raw: change('message_template_status_update'), receivedAt: 1, channel: 'sales' }, deps);
    await fanOutCallback({ raw: change('message_template_quality_update'), receivedAt: 1, channel: 'sales' }, deps);
    expect(changed).toEqual(['sales']);
    expect(added.map(([sub, e]) => `${sub}:${e.type}:${e.field}`)).toEqual(['all:template.status:message_template_status_update', 'all:template.quality:message_template_quality_update']);
  });
});
