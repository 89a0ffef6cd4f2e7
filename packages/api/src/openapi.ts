import { z } from 'zod';
import { Attempt, HistoryEntry } from '@cbot-relay/records';
import { ChannelList, ChannelPauseRequest, ChannelView } from './channels.js';
import { DeadLetterList, ReplayAccepted, ReplayManyRequest, ReplayManyResult } from './dead-letters.js';
import { ErrorBody } from './errors.js';
import { Health, Readiness } from './ops.js';
import type { Json } from './openapi-parts.js';
import { param, ref } from './openapi-parts.js';
import { ReadAccepted, ReadRequest, Wamid } from './read-receipts.js';
import { MediaId, MediaUploaded } from './media.js';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, ListQuery, MessageList, MessageView } from './records.js';
import { OptOut, OptOutList, OptOutListQuery, RecipientView } from './recipients.js';
import {
  BatchRequest,
  BatchResponse,
  StreamLine,
  StreamResult,
  CancelTagRequest,
  CancelTagResult,
  ChannelId,
  ExpiresIn,
  Fallback,
  IdempotencyKey,
  Priority,
  RelayId,
  SEND_VARIANTS,
  SendAccepted,
  SendAt,
  SendRequest,
  Tag,
  WindowState,
} from './send.js';
import {
  CreateSubscriberRequest,
  HttpSubscriber,
  HttpSubscriberWithSecret,
  PatchSubscriberRequest,
  QueueSubscriber,
  RotateSecretRequest,
  Subscriber,
  SubscriberCreated,
  SubscriberList,
  SubscriberName,
} from './subscribers.js';
import { TemplateList, UsageReport } from './templates-usage.js';
import { Callback, CallbackAccepted, Event } from './webhooks.js';
import { paths } from './openapi-paths.js';

/** Every component schema, by the name the document gives it. Message types get one each (`TextMessage`…). */
function componentSchemas(): Record<string, z.ZodType> {
  const variants = Object.fromEntries(
    SEND_VARIANTS.map((v) => {
      const type = v.shape.type.value;
      return [`${type[0]!.toUpperCase()}${type.slice(1)}Message`, v as z.ZodType];
    }),
  );
  return {
    SendRequest,
    ...variants,
    SendAccepted,
    Fallback,
    WindowState,
    Recipient: RecipientView,
    OptOut,
    OptOutList,
    ReadRequest,
    ReadAccepted,
    BatchRequest,
    BatchResponse,
    StreamLine,
    StreamResult,
    CancelTagRequest,
    CancelTagResult,
    Message: MessageView,
    Attempt,
    HistoryEntry,
    MessageList,
    TemplateList,
    UsageReport,
    ErrorBody,
    DeadLetterList,
    ReplayAccepted,
    ReplayManyRequest,
    ReplayManyResult,
    Subscriber,
    QueueSubscriber,
    HttpSubscriber,
    HttpSubscriberWithSecret,
    SubscriberCreate: CreateSubscriberRequest,
    SubscriberCreated,
    SubscriberPatch: PatchSubscriberRequest,
    SubscriberList,
    RotateSecretRequest,
    Channel: ChannelView,
    ChannelList,
    ChannelPauseRequest,
    Callback,
    CallbackAccepted,
    Event,
    MediaUploaded,
    Health,
    Readiness,
  };
}

/** JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) of every component, with references between them. */
export function jsonSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(componentSchemas())) registry.add(schema, { id });
  // io "input": what a valid request may hold, and for responses no `additionalProperties: false`, so
  // a field added later does not break a reader validating against an older copy.
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    if (id === '__shared') throw new Error('a schema was shared without a component name; register it in componentSchemas');
    const { $schema: _s, $id: _i, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}

/**
 * The query parameters of `GET /v1/messages`, from the schema the ingress parses the query with. `limit`
 * arrives as text the schema turns into a number; the document states the number it stands for.
 */
function listParameters(): Json {
  return Object.fromEntries(
    Object.entries(ListQuery.shape).map(([name, schema]) => {
      const parameter = param(name, 'query', schema, schema.description ?? name);
      if (name === 'limit') parameter.schema = { type: 'integer', minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT };
      return [`List_${name}`, parameter];
    }),
  );
}

export const OPENAPI_VERSION = '3.1.1';

/** The OpenAPI 3.1 description of the relay's whole outside (CONTRACT.md), built from the zod schemas. */
export function openApiDocument(): Json {
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'cbot-relay',
      version: '1',
      summary: 'A queue-backed relay between internal systems and the CBOT WhatsApp Business API',
      description: [
        'Internal systems send messages with `POST /v1/messages`; the relay makes each durable in Redis before it',
        'answers, sends it to CBOT with retries, per-recipient order and a global rate limit, and tracks its status.',
        'CBOT calls back `POST /webhooks/cbot`; each inbound message and status becomes one event for every',
        'subscriber (a BullMQ queue `events.<name>`, or an HTTP push signed per Standard Webhooks: see `webhooks`).',
        '',
        'Every refusal has the body `{"error": {"code", "message", "details"?}}`; each response lists its codes.',
      ].join('\n'),
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: '/', description: 'the ingress (PORT)' }],
    tags: [
      { name: 'messages', description: 'Send API (RELAY_API_KEYS)' },
      { name: 'recipients', description: "WhatsApp's rules per recipient: customer-service window and opt-outs (docs/whatsapp-rules.md)" },
      { name: 'templates and usage', description: 'Template lists (RELAY_API_KEYS) and what messages cost (RELAY_API_KEYS, RELAY_ADMIN_KEYS)' },
      { name: 'dead letters', description: 'Failed messages and subscriber deliveries (RELAY_ADMIN_KEYS)' },
      { name: 'subscribers', description: 'Downstream subscribers (RELAY_ADMIN_KEYS)' },
      { name: 'channels', description: 'CBOT channels (numbers): pause, stop and resume (RELAY_ADMIN_KEYS)' },
      { name: 'media', description: 'Media uploads and downloads through the channel\'s CBOT (RELAY_API_KEYS)' },
      { name: 'callbacks', description: 'CBOT webhook callbacks' },
      { name: 'operations', description: 'Health, readiness, metrics, queue UI, this description' },
    ],
    paths: paths(),
    webhooks: {
      relayEvent: {
        post: {
          tags: ['subscribers'],
          operationId: 'relayEvent',
          summary: 'An event pushed to an HTTP subscriber',
          security: [{ WebhookSignature: [] }],
          description:
            'POSTed as JSON to a subscriber of kind `http`, signed per the Standard Webhooks spec: `webhook-signature` is ' +
            '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">` keyed by the secret (during a rotation ' +
            'overlap one signature per secret, space-separated). `webhook-id` is the event id, the same on every retry and ' +
            'replay. Any non-2xx answer is retried with backoff, then kept as a dead letter. Queue subscribers get the same ' +
            'object as the data of a BullMQ job whose id is the event id.',
          parameters: [
            { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' }, description: 'the event id' },
            { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Unix seconds' },
            { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' }, description: 'space-separated `v1,<signature>`' },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('Event') } } },
          responses: { '200': { description: 'Taken (any 2xx)' }, default: { description: 'Not taken: retried with backoff' } },
        },
      },
    },
    components: {
      schemas: jsonSchemas(),
      securitySchemes: {
        ApiKey: { type: 'http', scheme: 'bearer', description: 'a key from RELAY_API_KEYS' },
        AdminKey: { type: 'http', scheme: 'bearer', description: 'a key from RELAY_ADMIN_KEYS' },
        AdminBasic: { type: 'http', scheme: 'basic', description: 'any user name, a RELAY_ADMIN_KEYS key as the password (the queue UI)' },
        CallbackBasic: { type: 'http', scheme: 'basic', description: 'CBOT_WEBHOOK_USER / CBOT_WEBHOOK_PASS (or the channel\'s)' },
        WebhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description: "Standard Webhooks: the relay signs each push with the subscriber's secret; the subscriber verifies it",
        },
        HubSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Hub-Signature-256',
          description: '`sha256=` + hex HMAC-SHA256 of the raw body keyed by CBOT_APP_SECRET (or the channel\'s); stands in for Basic',
        },
      },
      headers: {
        RetryAfter: { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
        Location: { description: '`/v1/messages/<id>`', schema: { type: 'string' } },
        RelayWindow: {
          description: "the recipient's customer-service window as the accept saw it: `open`, `closed` or `unknown` (docs/whatsapp-rules.md)",
          schema: { type: 'string', enum: ['open', 'closed', 'unknown'] },
        },
      },
      parameters: {
        IdempotencyKey: param('Idempotency-Key', 'header', IdempotencyKey, 'optional; see the schema'),
        Priority: param('X-Relay-Priority', 'header', Priority, 'optional, `normal` when absent'),
        ExpiresIn: param('X-Relay-Expires-In', 'header', ExpiresIn, 'optional; for a scheduled message it counts from X-Relay-Send-At'),
        SendAt: param('X-Relay-Send-At', 'header', SendAt, 'optional; more than 30 days ahead is 400 `send_at_too_far`'),
        Tag: param('X-Relay-Tag', 'header', Tag, 'optional'),
        MessageId: param('id', 'path', RelayId, 'the relay id'),
        SubscriberName: param('name', 'path', SubscriberName, 'the subscriber'),
        Channel: param('channel', 'path', ChannelId, 'a channel id from CHANNELS_FILE'),
        RuleChannel: param('channel', 'query', ChannelId, 'the channel; the default channel when absent'),
        OptOut_cursor: param('cursor', 'query', OptOutListQuery.shape.cursor.unwrap(), 'opaque: `nextCursor` of the previous page'),
        OptOut_limit: param('limit', 'query', z.int().min(1).max(500), 'page size, 1 to 500; 100 when absent'),
        ChannelPathId: param('id', 'path', ChannelId, 'a channel id (`default` without CHANNELS_FILE)'),
        Wamid: param('wamid', 'path', Wamid, 'the CBOT message id of an inbound message'),
        ReadChannel: param('channel', 'query', ChannelId, 'the channel the message came in on (default: the default channel)'),
        MediaChannel: param('channel', 'query', ChannelId, 'the channel (as a send body\'s `channel`); absent: the default channel'),
        MediaId: param('id', 'path', MediaId, "CBOT's media id (from an upload, or an inbound event's `media.id`)"),
        ...listParameters(),
      },
    },
  };
}
