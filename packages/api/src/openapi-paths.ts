import type { Json } from './openapi-parts.js';
import { bearer, errors, jsonBody, ref } from './openapi-parts.js';
import { BATCH_MAX, BATCH_MAX_BODY_BYTES } from './send.js';

const p = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const LOCATION = { headers: { Location: { $ref: '#/components/headers/Location' } } };
const jsonRequest = (id: string, description?: string): Json => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema: ref(id) } },
});

// Refusals every authenticated JSON route can give before its own logic runs.
const AUTH = [401];
const READ_BODY = [400, 413, 415];
const ALWAYS = [500, 503];

function sendPaths(): Json {
  return {
    '/v1/messages': {
      post: {
        tags: ['messages'],
        operationId: 'sendMessage',
        summary: 'Send a message',
        description:
          'Answers 202 only once the message is durable in Redis. Body: a CBOT (On-Premises) message of one of eleven ' +
          'types, `recipient_type` defaulting to `individual`, optional `channel`; at most INGRESS_MAX_BODY_BYTES (64 KiB).',
        security: bearer('ApiKey'),
        parameters: [p('IdempotencyKey'), p('Priority'), p('ExpiresIn')],
        requestBody: jsonRequest('SendRequest'),
        responses: {
          '202': jsonBody('SendAccepted', 'Accepted: durable in Redis', LOCATION),
          ...errors([...READ_BODY, ...AUTH, 403, 408, 409, 429, ...ALWAYS], undefined),
        },
      },
      get: {
        tags: ['messages'],
        operationId: 'listMessages',
        summary: "List the caller's messages, newest first",
        description: "An admin key sees every caller's messages. Pages follow `nextCursor`.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        parameters: ['to', 'status', 'since', 'until', 'limit', 'cursor'].map((n) => p(`List_${n}`)),
        responses: { '200': jsonBody('MessageList', 'A page of messages'), ...errors([400, ...AUTH, ...ALWAYS], ['invalid_query', 'invalid_header', 'unauthorized', 'internal', 'unavailable']) },
      },
    },
    '/v1/messages/batch': {
      post: {
        tags: ['messages'],
        operationId: 'sendBatch',
        summary: 'Send 1 to 100 messages',
        description:
          `1 to ${BATCH_MAX} items in a body of at most ${BATCH_MAX_BODY_BYTES / 1024 / 1024} MiB, each item also at most ` +
          'INGRESS_MAX_BODY_BYTES. Each item is validated and made durable or refused on its own, with the error body a single ' +
          'send would get; results come in item order. X-Relay-Priority and X-Relay-Expires-In apply to every item; each item ' +
          'may carry its own `idempotencyKey` (an Idempotency-Key header is 400 `invalid_header`). A body that is not a batch ' +
          'is 400 `invalid_request`; 503 only when Redis refused every item.',
        security: bearer('ApiKey'),
        parameters: [p('Priority'), p('ExpiresIn')],
        requestBody: jsonRequest('BatchRequest'),
        responses: {
          '207': jsonBody('BatchResponse', 'One result per item'),
          ...errors([...READ_BODY, ...AUTH, 408, 429, ...ALWAYS]),
        },
      },
    },
    '/v1/messages/{id}': {
      get: {
        tags: ['messages'],
        operationId: 'getMessage',
        summary: 'A message record: status, attempts, history',
        description: "Another caller's message is answered as 404, like a missing one.",
        security: bearer('ApiKey'),
        parameters: [p('MessageId')],
        responses: { '200': jsonBody('Message', 'The record'), ...errors([...AUTH, 404, ...ALWAYS], ['unauthorized', 'not_found', 'internal', 'unavailable']) },
      },
    },
  };
}

const BINARY = { type: 'string', format: 'binary' };

function mediaPaths(): Json {
  return {
    '/v1/media': {
      post: {
        tags: ['media'],
        operationId: 'uploadMedia',
        summary: "Upload a file to the channel's CBOT",
        description:
          'The file as the raw body with its Content-Type, or `multipart/form-data` with a `file` part (its Content-Type ' +
          'is the media type). Streamed to CBOT, never held whole (On-Premises `POST v1/media` raw; Cloud `POST media`, ' +
          "multipart with `messaging_product=whatsapp`). WhatsApp's limits: image 5 MiB (image/jpeg, image/png), audio " +
          '16 MiB (audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg), video 16 MiB (video/mp4, video/3gpp), document ' +
          '100 MiB (text/plain, application/pdf, MS Office types), sticker 500 KiB (image/webp); 413 past the limit (at ' +
          'once for a declared Content-Length, else when the counter passes it), 415 for another type.',
        security: bearer('ApiKey'),
        parameters: [p('MediaChannel')],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': { schema: { type: 'object', properties: { file: BINARY }, required: ['file'] } },
            '*/*': { schema: BINARY },
          },
        },
        responses: {
          '201': jsonBody('MediaUploaded', 'Uploaded: CBOT holds the file'),
          ...errors([400, 401, 403, 408, 413, 415, 429, 500, 502, 503, 504], [
            'unknown_channel', 'malformed_multipart', 'missing_file', 'cbot_rejected', 'request_aborted', 'invalid_query', 'invalid_header',
            'unauthorized', 'channel_forbidden', 'request_timeout', 'payload_too_large', 'unsupported_media_type', 'unsupported_encoding', 'rate_limited',
            'too_many_uploads', 'cbot_throttled', 'internal', 'cbot_auth', 'cbot_error', 'cbot_unreachable', 'unavailable',
            'channel_unconfigured', 'cbot_timeout',
          ]),
        },
      },
    },
    '/v1/media/{id}': {
      get: {
        tags: ['media'],
        operationId: 'downloadMedia',
        summary: 'Download a media file',
        description:
          "Streams the file with CBOT's Content-Type and Content-Length (On-Premises `GET v1/media/{id}`; Cloud `GET {id}`, " +
          "then the URL it answers, fetched with the channel's key; with the channel's `mediaHost: \"base\"` that URL's " +
          "origin is the base URL's). CBOT's 404 is 404 and is remembered for 5 min in Redis (WhatsApp blocks media " +
          'look-ups after repeated failures).',
        security: bearer('ApiKey'),
        parameters: [p('MediaId'), p('MediaChannel')],
        responses: {
          '200': {
            description: 'The file',
            headers: { 'Content-Length': { schema: { type: 'integer', minimum: 0 }, description: 'its size in bytes' } },
            content: { '*/*': { schema: BINARY } },
          },
          ...errors([400, 401, 403, 404, 429, 500, 502, 503, 504], [
            'unknown_channel', 'cbot_rejected', 'invalid_query', 'invalid_header', 'unauthorized', 'channel_forbidden', 'media_not_found',
            'rate_limited', 'cbot_throttled', 'internal', 'cbot_auth', 'cbot_error', 'cbot_unreachable', 'unavailable', 'channel_unconfigured',
            'cbot_timeout',
          ]),
        },
      },
    },
  };
}

function templatesUsagePaths(): Json {
  const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({ name, in: 'query', required: false, schema, description });
  const instant = { type: 'string', format: 'date-time' };
  return {
    '/v1/templates': {
      get: {
        tags: ['templates and usage'],
        operationId: 'listTemplates',
        summary: "The channel's message templates, as CBOT lists them",
        description:
          'From the relay\'s per-channel cache (reloaded from CBOT `GET {base}v1/configs/templates` every TEMPLATES_REFRESH_S and on ' +
          'template.status events). A `template` send on the channel is checked against this list at accept: unknown name or language ' +
          '400 `unknown_template`, not APPROVED 400 `template_not_approved`, a component with another parameter count than its ' +
          'placeholders 400 `template_parameters`. While no list could be loaded, sends are not checked.',
        security: bearer('ApiKey'),
        parameters: [query('channel', 'a channel id (the default channel when absent); the key must be allowed on it', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' })],
        responses: {
          '200': jsonBody('TemplateList', "The channel's templates"),
          ...errors([400, ...AUTH, 403, ...ALWAYS], ['invalid_query', 'unknown_channel', 'invalid_header', 'unauthorized', 'channel_forbidden', 'internal', 'unavailable', 'templates_unavailable']),
        },
      },
    },
    '/v1/usage': {
      get: {
        tags: ['templates and usage'],
        operationId: 'getUsage',
        summary: 'Messages priced per caller, channel, category and type',
        description:
          'Counts sent messages whose status callbacks carried `pricing` or `conversation`, each message once, per UTC day of the ' +
          'first priced status; the range is widened to whole UTC days (at most 400). A caller key sees its own counts; an admin key ' +
          "every caller's, or one caller's with `caller`.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        parameters: [
          query('since', 'from (rounded down to 00:00 UTC); 30 days before `until` when absent', instant),
          query('until', 'to (rounded up to the next 00:00 UTC); now when absent', instant),
          query('channel', 'only this channel', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }),
          query('caller', 'only this caller (admin key; a caller key may name only itself)', { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' }),
        ],
        responses: {
          '200': jsonBody('UsageReport', 'Counts'),
          ...errors([400, ...AUTH, 403, ...ALWAYS], ['invalid_query', 'unknown_channel', 'invalid_header', 'unauthorized', 'channel_forbidden', 'internal', 'unavailable']),
        },
      },
    },
  };
}

function deadLetterPaths(): Json {
  return {
    '/v1/dead-letters': {
      get: {
        tags: ['dead letters'],
        operationId: 'listDeadLetters',
        summary: 'Failed messages and subscriber deliveries',
        security: bearer('AdminKey'),
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, description: 'page size (clamped)' },
          { name: 'before', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,16}$' }, description: '`next` of the previous page' },
        ],
        responses: { '200': jsonBody('DeadLetterList', 'Dead letters'), ...errors([...AUTH, ...ALWAYS]) },
      },
    },
    '/v1/dead-letters/{id}/replay': {
      post: {
        tags: ['dead letters'],
        operationId: 'replayDeadLetter',
        summary: 'Replay one dead letter',
        description: 'A message (`msg_…`) is queued again under its id; a subscriber delivery (`evt_….<subscriber>`) is retried with fresh attempts.',
        security: bearer('AdminKey'),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'a message id or `<event id>.<subscriber>`' }],
        responses: {
          '202': jsonBody('ReplayAccepted', 'Queued again', LOCATION),
          ...errors([...AUTH, 404, 409, ...ALWAYS], ['unauthorized', 'not_found', 'not_failed', 'body_expired', 'internal', 'unavailable']),
        },
      },
    },
    '/v1/dead-letters/replay': {
      post: {
        tags: ['dead letters'],
        operationId: 'replayDeadLetters',
        summary: 'Replay every dead letter of a kind, optionally since a time',
        security: bearer('AdminKey'),
        requestBody: jsonRequest('ReplayManyRequest'),
        responses: { '200': jsonBody('ReplayManyResult', 'Counts'), ...errors([400, ...AUTH, 413, ...ALWAYS]) },
      },
    },
  };
}

function subscriberPaths(): Json {
  const admin = { tags: ['subscribers'], security: bearer('AdminKey') };
  const named = [p('SubscriberName')];
  // What the subscriber routes refuse with: each code below is one the route (or its body reader) answers.
  const body = () =>
    errors(
      [400, ...AUTH, 408, 413, 415, ...ALWAYS],
      ['invalid_json', 'invalid_utf8', 'too_deep', 'invalid_request', 'request_aborted', 'bad_request', 'unauthorized', 'request_timeout', 'payload_too_large', 'unsupported_encoding', 'internal', 'unavailable'],
    );
  const plain = (...extra: string[]) => errors([...AUTH, ...(extra.length ? [404] : []), ...ALWAYS], ['unauthorized', 'internal', 'unavailable', ...extra]);
  return {
    '/v1/subscribers': {
      get: { ...admin, operationId: 'listSubscribers', summary: 'List subscribers', responses: { '200': jsonBody('SubscriberList', 'Subscribers'), ...plain() } },
      post: {
        ...admin,
        operationId: 'createSubscriber',
        summary: 'Create a subscriber',
        description:
          'Reaches every fanout process within 10 s, no restart. An `http` subscriber without `secret` gets a generated one, ' +
          'returned in this answer only (later answers show its fingerprint). Body at most 16 KiB.',
        requestBody: jsonRequest('SubscriberCreate'),
        responses: {
          '201': jsonBody('SubscriberCreated', 'Created', { headers: { Location: { description: '`/v1/subscribers/<name>`', schema: { type: 'string' } } } }),
          ...body(),
          ...errors([409], ['subscriber_exists']),
        },
      },
    },
    '/v1/subscribers/{name}': {
      get: { ...admin, operationId: 'getSubscriber', summary: 'A subscriber', parameters: named, responses: { '200': jsonBody('Subscriber', 'The subscriber'), ...plain('not_found') } },
      patch: {
        ...admin,
        operationId: 'updateSubscriber',
        summary: 'Change url, types, channels, enabled, maxWaiting or maxAgeS',
        description: 'The fields given replace the stored ones; a field of the other kind (`url` on a queue subscriber) is 400. Name, kind and secret never change here.',
        parameters: named,
        requestBody: jsonRequest('SubscriberPatch'),
        responses: { '200': jsonBody('Subscriber', 'Updated'), ...body(), ...errors([404], ['not_found']) },
      },
      delete: {
        ...admin,
        operationId: 'deleteSubscriber',
        summary: 'Delete a subscriber: it receives no new events',
        parameters: named,
        responses: { '204': { description: 'Deleted' }, ...plain('not_found') },
      },
    },
    '/v1/subscribers/{name}/rotate-secret': {
      post: {
        ...admin,
        operationId: 'rotateSubscriberSecret',
        summary: "Rotate an HTTP subscriber's secret with an overlap",
        description:
          'During the overlap each push carries a signature with the old and with the new secret (at most four secrets at once). ' +
          'An empty body generates a secret with the default overlap; a generated secret is returned this once, a given one is not echoed.',
        parameters: named,
        requestBody: { ...jsonRequest('RotateSecretRequest'), required: false },
        responses: { '200': jsonBody('HttpSubscriberWithSecret', 'Rotated'), ...body(), ...errors([404, 409], ['not_found', 'no_secret']) },
      },
    },
  };
}

function callbackPaths(): Json {
  const callback = (channel: boolean): Json => ({
    tags: ['callbacks'],
    operationId: channel ? 'channelCallback' : 'callback',
    summary: channel ? "CBOT callback for one channel, with that channel's credentials" : 'CBOT callback (the default channel)',
    description:
      'Answers 200 once the raw payload is durable in Redis. Either shape; any other JSON is kept as an `unrecognized` ' +
      'event. Redelivered callbacks produce no duplicate events. At most WEBHOOK_MAX_BODY_BYTES (1 MiB).',
    security: [{ CallbackBasic: [] }, { HubSignature: [] }, {}],
    ...(channel ? { parameters: [p('Channel')] } : {}),
    requestBody: jsonRequest('Callback'),
    responses: {
      '200': jsonBody('CallbackAccepted', 'Durable'),
      ...errors([400, 401, ...(channel ? [404] : []), 408, 413, 415, ...ALWAYS], [
        'invalid_json',
        'invalid_utf8',
        'too_deep',
        'request_aborted',
        'bad_request',
        'invalid_header',
        'unauthorized',
        'not_found',
        'request_timeout',
        'payload_too_large',
        'unsupported_encoding',
        'internal',
        'unavailable',
        'busy',
      ]),
    },
  });
  return { '/webhooks/cbot': { post: callback(false) }, '/webhooks/cbot/{channel}': { post: callback(true) } };
}

function opsPaths(): Json {
  const ops = { tags: ['operations'] };
  return {
    '/healthz': { get: { ...ops, operationId: 'health', summary: 'Process up (also on OPS_PORT)', security: [], responses: { '200': jsonBody('Health', 'Up') } } },
    '/readyz': {
      get: {
        ...ops,
        operationId: 'ready',
        summary: 'Redis reachable and workers running (also on OPS_PORT)',
        security: [],
        responses: { '200': jsonBody('Readiness', 'Ready'), '503': jsonBody('Readiness', 'Not ready') },
      },
    },
    '/metrics': {
      get: {
        ...ops,
        operationId: 'metrics',
        summary: 'Prometheus metrics (admin key on PORT; open on OPS_PORT)',
        security: bearer('AdminKey'),
        responses: { '200': { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors([...AUTH]) },
      },
    },
    '/admin/queues': {
      get: {
        ...ops,
        operationId: 'queueUi',
        summary: 'The queue UI (bull-board)',
        description: 'A browser page; the admin key as Bearer, or as the password of Basic.',
        security: [...bearer('AdminKey'), { AdminBasic: [] }],
        responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors([401]) },
      },
    },
    '/openapi.json': {
      get: { ...ops, operationId: 'openapi', summary: 'This description', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
    },
    '/docs': {
      get: { ...ops, operationId: 'docs', summary: 'Reference page of this description', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } },
    },
  };
}

export function paths(): Json {
  return { ...sendPaths(), ...mediaPaths(), ...templatesUsagePaths(), ...deadLetterPaths(), ...subscriberPaths(), ...callbackPaths(), ...opsPaths() };
}
