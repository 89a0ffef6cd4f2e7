import { z } from 'zod';
import { RELAY_EVENT_TYPES } from '@cbot-relay/messages';
import { SUBSCRIBER_NAME } from '@cbot-relay/records';

// The subscribers API (`/v1/subscribers`): the ingress validates with these schemas and answers with
// `subscriberView`, and the OpenAPI document is built from them.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
/** The longest rotation overlap: 30 days. */
export const MAX_OVERLAP_S = 30 * 86_400;

/** A Standard Webhooks secret as the admin API takes it: `whsec_` + base64 of 24–64 bytes. */
export const WebhookSecret = z
  .string()
  .refine(
    (s) => {
      if (!s.startsWith('whsec_')) return false;
      const b64 = s.slice('whsec_'.length);
      if (b64.length === 0 || !BASE64.test(b64)) return false;
      const n = Buffer.from(b64, 'base64').length;
      return n >= SECRET_MIN_BYTES && n <= SECRET_MAX_BYTES;
    },
    { error: `must be whsec_ followed by the base64 of ${SECRET_MIN_BYTES}–${SECRET_MAX_BYTES} random bytes` },
  )
  .meta({
    description: `\`whsec_\` + base64 of ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} random bytes (Standard Webhooks)`,
    pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
    examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  });

export const SubscriberName = z
  .string({ error: 'required: a string' })
  .regex(SUBSCRIBER_NAME, 'must match ^[A-Za-z0-9_-]{1,64}$ (it names the queue)')
  .meta({ description: 'safe in a queue name: a queue subscriber consumes `events.<name>`' });
const Url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).meta({ description: 'http(s) URL the events are POSTed to' });
const EventType = z.union([z.literal('*'), z.enum(RELAY_EVENT_TYPES)], { error: `each must be one of ${RELAY_EVENT_TYPES.join(', ')}, or "*"` });
const Types = z
  .array(EventType)
  .min(1, 'list at least one event type, or "*"')
  .max(RELAY_EVENT_TYPES.length + 1)
  .refine((ts) => !ts.includes('*') || ts.length === 1, '"*" must stand alone')
  .meta({ description: 'event types delivered; `["*"]` (alone) is every type; `["*"]` when absent' });
const Channels = z
  .array(z.string().regex(/^(\*|[A-Za-z0-9._-]{1,64})$/, 'must be a channel id or "*"'))
  .min(1, 'list at least one channel, or "*"')
  .max(100)
  .refine((cs) => !cs.includes('*') || cs.length === 1, '"*" must stand alone')
  .meta({ description: 'channels whose events are delivered (an event without `channel` is `default`); absent or `["*"]`: every channel' });
const Count = z.number().int('must be a whole number').min(0, 'must be 0 (unbounded) or more').max(Number.MAX_SAFE_INTEGER);
const MaxWaiting = Count.meta({ description: 'queue kind: most events waiting in `events.<name>`; 0 is unbounded' });
const MaxAgeS = Count.meta({ description: 'queue kind: seconds an event may wait in `events.<name>`; 0 is unbounded' });
const Enabled = z.boolean().meta({ description: 'false: no new events are added for it and its HTTP pushes wait; true again resumes them' });

export const CreateQueueSubscriber = z.strictObject({
  name: SubscriberName,
  kind: z.literal('queue'),
  types: Types.optional(),
  channels: Channels.optional(),
  enabled: Enabled.optional(),
  maxWaiting: MaxWaiting.optional(),
  maxAgeS: MaxAgeS.optional(),
});
export const CreateHttpSubscriber = z.strictObject({
  name: SubscriberName,
  kind: z.literal('http'),
  url: Url,
  secret: WebhookSecret.optional().meta({ description: 'generated (and returned this once) when absent' }),
  types: Types.optional(),
  channels: Channels.optional(),
  enabled: Enabled.optional(),
});

/** `POST /v1/subscribers`. An HTTP subscriber without `secret` gets a generated one (returned once). */
export const CreateSubscriberRequest = z.discriminatedUnion('kind', [CreateQueueSubscriber, CreateHttpSubscriber], {
  error: 'kind must be "queue" or "http"',
});
export type CreateSubscriberRequest = z.infer<typeof CreateSubscriberRequest>;

/**
 * `PATCH /v1/subscribers/{name}`: the fields given replace the stored ones; `channels: null` goes
 * back to every channel. The secret changes only by rotation; name and kind never.
 */
export const PatchSubscriberRequest = z
  .strictObject({
    url: Url.optional().meta({ description: 'http kind only' }),
    types: Types.optional(),
    channels: Channels.nullable().optional().meta({ description: 'null: every channel again' }),
    enabled: Enabled.optional(),
    maxWaiting: MaxWaiting.optional(),
    maxAgeS: MaxAgeS.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one of url, types, channels, enabled, maxWaiting, maxAgeS')
  .meta({ minProperties: 1, description: 'the fields given replace the stored ones; `url` is for http subscribers, `maxWaiting` and `maxAgeS` for queue ones' });
export type PatchSubscriberRequest = z.infer<typeof PatchSubscriberRequest>;

/** `POST /v1/subscribers/{name}/rotate-secret`: a given or generated new secret; the old one signs on for `overlapSeconds`. */
export const RotateSecretRequest = z.strictObject({
  secret: WebhookSecret.optional().meta({ description: 'the new secret; generated (and returned this once) when absent' }),
  overlapSeconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(0)
    .max(MAX_OVERLAP_S, `at most ${MAX_OVERLAP_S} (30 days)`)
    .default(86_400)
    .meta({ description: 'seconds the old secret keeps signing beside the new one; 0: not at all' }),
});
export type RotateSecretRequest = z.infer<typeof RotateSecretRequest>;

// Views: what the API answers. Secrets appear only as fingerprints, except the once-returned one.

const Fingerprint = z.string().regex(/^sha256:[0-9a-f]{16}$/).meta({ description: '`sha256:` + the first 16 hex digits of the secret\'s SHA-256' });
const ViewCommon = {
  name: SubscriberName,
  types: z.array(EventType),
  channels: z.array(z.string()).optional().meta({ description: 'absent: every channel' }),
  enabled: z.boolean(),
  source: z.enum(['file', 'api']).meta({ description: 'seeded from SUBSCRIPTIONS_FILE, or made by this API' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

export const QueueSubscriber = z.object({
  ...ViewCommon,
  kind: z.literal('queue'),
  queue: z.string().meta({ description: 'the BullMQ queue (under QUEUE_PREFIX) its events land on: `events.<name>`' }),
  maxWaiting: Count.optional(),
  maxAgeS: Count.optional(),
});
export const HttpSubscriber = z.object({
  ...ViewCommon,
  kind: z.literal('http'),
  url: z.string(),
  secretFingerprint: Fingerprint,
  previousSecrets: z
    .array(z.object({ fingerprint: Fingerprint, expiresAt: z.iso.datetime() }))
    .meta({ description: 'older secrets still signing (a rotation overlap): each push carries one signature per secret' }),
});

/** A subscriber as the API shows it. */
export const Subscriber = z.discriminatedUnion('kind', [QueueSubscriber, HttpSubscriber]);
export type Subscriber = z.infer<typeof Subscriber>;

const OnceSecret = WebhookSecret.optional().meta({ description: 'only when the relay generated it: shown this once, never again' });
export const HttpSubscriberWithSecret = HttpSubscriber.extend({ secret: OnceSecret });

/** `201` of create: the subscriber and, for `http` without a given secret, the generated one. */
export const SubscriberCreated = z.discriminatedUnion('kind', [QueueSubscriber, HttpSubscriberWithSecret]);
export const SubscriberList = z.object({ items: z.array(Subscriber) });
/** `200` of rotate-secret: the subscriber and, when generated, the new secret. */
export const RotateSecretResult = HttpSubscriberWithSecret;
