import { z } from 'zod';
import { RELAY_EVENT_TYPES } from '@cbot-relay/messages';
import { SUBSCRIBER_NAME } from './subscriber-record.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
/** The longest rotation overlap: 30 days. */
export const MAX_OVERLAP_S = 30 * 86_400;

/** A Standard Webhooks secret as the admin API takes it: `whsec_` + base64 of 24–64 bytes. */
export const WebhookSecret = z.string().refine(
  (s) => {
    if (!s.startsWith('whsec_')) return false;
    const b64 = s.slice('whsec_'.length);
    if (b64.length === 0 || !BASE64.test(b64)) return false;
    const n = Buffer.from(b64, 'base64').length;
    return n >= SECRET_MIN_BYTES && n <= SECRET_MAX_BYTES;
  },
  { error: `must be whsec_ followed by the base64 of ${SECRET_MIN_BYTES}–${SECRET_MAX_BYTES} random bytes` },
);

const Name = z.string({ error: 'required: a string' }).regex(SUBSCRIBER_NAME, 'must match ^[A-Za-z0-9_-]{1,64}$ (it names the queue)');
const Url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const Types = z
  .array(z.union([z.literal('*'), z.enum(RELAY_EVENT_TYPES)], { error: `each must be one of ${RELAY_EVENT_TYPES.join(', ')}, or "*"` }))
  .min(1, 'list at least one event type, or "*"')
  .max(RELAY_EVENT_TYPES.length + 1)
  .refine((ts) => !ts.includes('*') || ts.length === 1, '"*" must stand alone');
const Channels = z
  .array(z.string().regex(/^(\*|[A-Za-z0-9._-]{1,64})$/, 'must be a channel id or "*"'))
  .min(1, 'list at least one channel, or "*"')
  .max(100)
  .refine((cs) => !cs.includes('*') || cs.length === 1, '"*" must stand alone');
const Count = z.number().int('must be a whole number').min(0, 'must be 0 (unbounded) or more').max(Number.MAX_SAFE_INTEGER);

/** `POST /v1/subscribers`. An HTTP subscriber without `secret` gets a generated one (returned once). */
export const CreateSubscriberRequest = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      name: Name,
      kind: z.literal('queue'),
      types: Types.optional(),
      channels: Channels.optional(),
      enabled: z.boolean().optional(),
      maxWaiting: Count.optional(),
      maxAgeS: Count.optional(),
    }),
    z.strictObject({
      name: Name,
      kind: z.literal('http'),
      url: Url,
      secret: WebhookSecret.optional(),
      types: Types.optional(),
      channels: Channels.optional(),
      enabled: z.boolean().optional(),
    }),
  ],
  { error: 'kind must be "queue" or "http"' },
);
export type CreateSubscriberRequest = z.infer<typeof CreateSubscriberRequest>;

/**
 * `PATCH /v1/subscribers/{name}`: the fields given replace the stored ones; `channels: null` goes
 * back to every channel. The secret changes only by rotation; name and kind never.
 */
export const PatchSubscriberRequest = z
  .strictObject({
    url: Url.optional(),
    types: Types.optional(),
    channels: Channels.nullable().optional(),
    enabled: z.boolean().optional(),
    maxWaiting: Count.optional(),
    maxAgeS: Count.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one of url, types, channels, enabled, maxWaiting, maxAgeS');
export type PatchSubscriberRequest = z.infer<typeof PatchSubscriberRequest>;

/** `POST /v1/subscribers/{name}/rotate-secret`: a given or generated new secret; the old one signs on for `overlapSeconds`. */
export const RotateSecretRequest = z.strictObject({
  secret: WebhookSecret.optional(),
  overlapSeconds: z.number().int('must be a whole number of seconds').min(0).max(MAX_OVERLAP_S, `at most ${MAX_OVERLAP_S} (30 days)`).default(86_400),
});
export type RotateSecretRequest = z.infer<typeof RotateSecretRequest>;
