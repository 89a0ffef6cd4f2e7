import type { Json } from './openapi-parts.js';
import { bearer, errors, jsonBody, ref } from './openapi-parts.js';
import { BATCH_MAX, BATCH_MAX_BODY_BYTES, STREAM_IN_FLIGHT, STREAM_MAX_LINES } from './send.js';

const p = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const LOCATION = { headers: { Location: { $ref: '#/components/headers/Location' } } };
const SEND_HEADERS = { headers: { Location: { $ref: '#/components/headers/Location' }, 'X-Relay-Window': { $ref: '#/components/headers/RelayWindow' } } };
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
          'types, `recipient_type` defaulting to `individual`, optional `channel` and `fallback`; at most INGRESS_MAX_BODY_BYTES (64 KiB). ' +
          "WhatsApp's rules are kept in the same step (docs/whatsapp-rules.md): a free-form message (any type but `template`) to a " +
          'recipient whose customer-service window is closed is 422 under WINDOW_POLICY `enforce` unless it has a `fallback` ' +
          '(then the 202 is for the fallback template); a recipient who opted out is 422.',
        security: bearer('ApiKey'),
        parameters: [p('IdempotencyKey'), p('Priority'), p('ExpiresIn'), p('SendAt'), p('Tag')],
        requestBody: jsonRequest('SendRequest'),
        responses: {
          '202': jsonBody('SendAccepted', 'Accepted: durable in Redis (`scheduled` when X-Relay-Send-At is ahead)', SEND_HEADERS),
          ...errors([...READ_BODY, ...AUTH, 403, 408, 409, 422, 429, ...ALWAYS], undefined),
        },
      },
      get: {
        tags: ['messages'],
        operationId: 'listMessages',
        summary: "List the caller's messages, newest first",
        description: "An admin key sees every caller's messages. Pages follow `nextCursor`.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        parameters: ['to', 'status', 'tag', 'since', 'until', 'limit', 'cursor'].map((n) => p(`List_${n}`)),
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
          'send would get; results come in item order. X-Relay-Priority, X-Relay-Expires-In, X-Relay-Send-At and X-Relay-Tag apply ' +
          'to every item; each item may carry its own `idempotencyKey`, `sendAt` and `tag` (over the headers; an Idempotency-Key ' +
          'header is 400 `invalid_header`). A body that is not a batch ' +
          'is 400 `invalid_request`; 503 only when Redis refused every item.',
        security: bearer('ApiKey'),
        parameters: [p('Priority'), p('ExpiresIn'), p('SendAt'), p('Tag')],
        requestBody: jsonRequest('BatchRequest'),
        responses: {
          '207': jsonBody('BatchResponse', 'One result per item'),
          ...errors([...READ_BODY, ...AUTH, 408, 429, ...ALWAYS]),
        },
      },
    },
    '/v1/messages/stream': {
      post: {
        tags: ['messages'],
        operationId: 'sendStream',
        summary: 'Send many messages as NDJSON, answered line by line',
        description:
          'A campaign: the body is NDJSON (`application/x-ndjson`), one send body per line (the `StreamLine` schema: a batch ' +
          'item, optionally with its own `idempotencyKey`), blank lines ignored. The answer is `200` NDJSON, one `StreamResult` ' +
          'per non-blank line in line order, written while the body is still arriving. Each line is checked and made durable or ' +
          'refused on its own exactly as a batch item; a line over INGRESS_MAX_BODY_BYTES is that line\'s 413, a line that is ' +
          'not JSON its 400 `invalid_json`. At most ' + String(STREAM_MAX_LINES) + ' lines per request (the next is answered 413 ' +
          'and the request ends); at most ' + String(STREAM_IN_FLIGHT) + ' lines wait for their results, and the body is not read ' +
          'further while the client does not read the answer. X-Relay-Priority, X-Relay-Expires-In, X-Relay-Send-At and X-Relay-Tag apply to every line (a line\'s own `sendAt` / `tag` as in a batch); an ' +
          'Idempotency-Key header is 400. The request counts once against the key\'s rate limit and is bounded by ' +
          'MEDIA_TIMEOUT_MS and MEDIA_IDLE_TIMEOUT_MS. Once the 200 is under way, Redis trouble is each line\'s 503.',
        security: bearer('ApiKey'),
        parameters: [p('Priority'), p('ExpiresIn'), p('SendAt'), p('Tag')],
        requestBody: { required: true, content: { 'application/x-ndjson': { schema: ref('StreamLine') } } },
        responses: {
          '200': { description: 'One result per line, NDJSON, in line order', content: { 'application/x-ndjson': { schema: ref('StreamResult') } } },
          ...errors([400, 415, ...AUTH, 408, 429, ...ALWAYS]),
        },
      },
    },
    '/v1/messages/{wamid}/read': {
      post: {
        tags: ['messages'],
        operationId: 'markRead',
        summary: 'Mark an inbound message read (and show the typing indicator)',
        description:
          'Answers 202 once the receipt is durable in Redis. The dispatcher sends it to the channel\'s CBOT (On-Premises ' +
          '`PUT v1/messages/{wamid}` with `{"status": "read"}`; Cloud `POST messages` with `status: read`, `message_id` and, ' +
          'with `typing`, `typing_indicator: {"type": "text"}`) ahead of every queued message, within the channel\'s rate ' +
          'limit, retried like a send. Once per wamid and channel for 24 h: a repeat is 202 with `duplicate: true` and sends ' +
          'nothing. The body is optional (at most 1 KiB); On-Premises has no typing indicator and ignores `typing`.',
        security: bearer('ApiKey'),
        parameters: [p('Wamid'), p('ReadChannel')],
        requestBody: { required: false, content: { 'application/json': { schema: ref('ReadRequest') } } },
        responses: {
          '202': jsonBody('ReadAccepted', 'Accepted: durable in Redis'),
          ...errors([...READ_BODY, ...AUTH, 403, 429, ...ALWAYS], [
            'invalid_json', 'invalid_utf8', 'too_deep', 'invalid_request', 'invalid_query', 'invalid_wamid', 'invalid_header', 'unknown_channel',
            'request_aborted', 'bad_request', 'unauthorized', 'channel_forbidden', 'payload_too_large', 'unsupported_media_type', 'unsupported_encoding',
            'rate_limited', 'backlog_full', 'internal', 'unavailable', 'replication_timeout',
          ]),
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
      delete: {
        tags: ['messages'],
        operationId: 'cancelMessage',
        summary: 'Cancel a message not yet handed to CBOT',
        description:
          'A `scheduled` or `queued` message ends `canceled` and is never sent (200 with the record). One already `sending` ' +
          '(handed to CBOT, or waiting for a retry) or ended is 409 `not_cancelable` with its status in `details`. A caller key ' +
          "cancels its own messages (another caller's is 404), an admin key anyone's.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        parameters: [p('MessageId')],
        responses: {
          '200': jsonBody('Message', 'Canceled: the record'),
          ...errors([...AUTH, 404, 409, ...ALWAYS], ['unauthorized', 'not_found', 'not_cancelable', 'internal', 'unavailable']),
        },
      },
    },
    '/v1/messages/cancel': {
      post: {
        tags: ['messages'],
        operationId: 'cancelTag',
        summary: 'Cancel every unsent message with a tag',
        description:
          'Every `scheduled` or `queued` message of the caller with this X-Relay-Tag ends `canceled`; none of them is sent after ' +
          'the answer. Messages already `sending` are left alone and not counted. An admin key cancels every caller\'s, or ' +
          "`caller`'s. Walked in slices of 1,000, each atomic with the dispatch.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        requestBody: jsonRequest('CancelTagRequest'),
        responses: {
          '200': jsonBody('CancelTagResult', 'How many were canceled'),
          ...errors([...READ_BODY, ...AUTH, ...ALWAYS]),
        },
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

function channelPaths(): Json {
  const admin = { tags: ['channels'], security: bearer('AdminKey') };
  const id = [p('ChannelPathId')];
  const plain = errors([...AUTH, 404, ...ALWAYS], ['unauthorized', 'not_found', 'internal', 'unavailable']);
  const body = errors(
    [400, ...AUTH, 404, 408, 413, 415, ...ALWAYS],
    ['invalid_json', 'invalid_utf8', 'too_deep', 'invalid_request', 'request_aborted', 'bad_request', 'unauthorized', 'not_found', 'request_timeout', 'payload_too_large', 'unsupported_encoding', 'internal', 'unavailable'],
  );
  return {
    '/v1/channels': {
      get: {
        ...admin,
        operationId: 'listChannels',
        summary: 'The channels (CBOT numbers): state, backlog, quality',
        description:
          'A channel is `paused` after a throughput throttle (130429, 80007, 4, 1015, HTTP 429: Retry-After, else 1 s doubling ' +
          'to 60 s), after 131048 (QUALITY_PAUSE_S, doubling on a repeat within 24 h up to 24 h) or by an operator; `stopped` ' +
          'after 368 or 131031 until an operator resumes it. Nothing queued on it fails meanwhile: the queue waits.',
        responses: { '200': jsonBody('ChannelList', 'Every configured channel'), ...errors([...AUTH, ...ALWAYS], ['unauthorized', 'internal', 'unavailable']) },
      },
    },
    '/v1/channels/{id}/pause': {
      post: {
        ...admin,
        operationId: 'pauseChannel',
        summary: 'Pause sending on a channel',
        description:
          'With `seconds`, until then; without (or an empty body), until `POST /v1/channels/{id}/resume`. Replaces any pause; ' +
          'a stopped channel stays stopped (resume it). Emits `channel.paused`.',
        parameters: id,
        requestBody: { ...jsonRequest('ChannelPauseRequest'), required: false },
        responses: { '200': jsonBody('Channel', 'The channel after the pause'), ...body },
      },
    },
    '/v1/channels/{id}/resume': {
      post: {
        ...admin,
        operationId: 'resumeChannel',
        summary: 'Resume a paused or stopped channel',
        description: 'Clears any pause or stop at once (every dispatcher is woken); the messages waiting go in their order. Emits `channel.resumed` when the channel was held.',
        parameters: id,
        responses: { '200': jsonBody('Channel', 'The channel, active'), ...plain },
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

function recipientPaths(): Json {
  const to = { name: 'to', in: 'path', required: true, schema: { type: 'string', pattern: '^\\s*\\+?[0-9]{1,15}\\s*$' }, description: 'the recipient (WhatsApp id; encode a leading + as %2B)' };
  const channel = p('RuleChannel');
  const optOut = { tags: ['recipients'], security: bearer('AdminKey') };
  const refusals = (...extra: string[]) =>
    errors([400, ...AUTH, ...ALWAYS], ['invalid_request', 'invalid_query', 'unknown_channel', 'unauthorized', 'internal', 'unavailable', ...extra]);
  return {
    '/v1/recipients/{to}': {
      get: {
        tags: ['recipients'],
        operationId: 'getRecipient',
        summary: "A recipient's customer-service window and opt-out on a channel",
        description: "An API key sees the channels it may send on (another is 403); an admin key every channel.",
        security: [...bearer('ApiKey'), ...bearer('AdminKey')],
        parameters: [to, channel],
        responses: { '200': jsonBody('Recipient', 'The recipient'), ...refusals(), ...errors([403], ['channel_forbidden']) },
      },
    },
    '/v1/opt-outs': {
      get: {
        ...optOut,
        operationId: 'listOptOuts',
        summary: "A channel's opted-out recipients, in recipient order",
        parameters: [channel, p('OptOut_cursor'), p('OptOut_limit')],
        responses: { '200': jsonBody('OptOutList', 'A page'), ...refusals() },
      },
    },
    '/v1/opt-outs/{to}': {
      put: {
        ...optOut,
        operationId: 'optOut',
        summary: 'Opt a recipient out on a channel',
        description: 'Idempotent. Sends to the recipient are then 422 `recipient_opted_out`, and its queued messages end `failed` with that code.',
        parameters: [to, channel],
        responses: { '200': jsonBody('Recipient', 'The recipient, opted out'), ...refusals() },
      },
      delete: {
        ...optOut,
        operationId: 'optIn',
        summary: 'Opt a recipient back in on a channel',
        parameters: [to, channel],
        responses: { '200': jsonBody('Recipient', 'The recipient, opted in'), ...refusals() },
      },
    },
  };
}

export function paths(): Json {
  return { ...sendPaths(), ...mediaPaths(), ...templatesUsagePaths(), ...recipientPaths(), ...deadLetterPaths(), ...subscriberPaths(), ...channelPaths(), ...callbackPaths(), ...opsPaths() };
}
