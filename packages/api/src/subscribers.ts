import { z } from 'zod';
import { RELAY_EVENT_TYPES } from '@cbot-relay/messages';
import { ChannelId } from './send.js';

// The subscribers API as CONTRACT.md fixes it; the ingress routes adopt these schemas.

export const SubscriberName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .meta({ description: 'safe in a queue name: queue subscribers consume `events.<name>`' });

/** Standard Webhooks: `whsec_` + base64 of 24 to 64 random bytes. */
export const WebhookSecret = z
  .string()
  .regex(/^whsec_(?:[A-Za-z0-9+/]{4}){8,22}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/)
  .meta({ description: '`whsec_` + base64 of 24 to 64 bytes (Standard Webhooks)', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });

const EventTypeFilter = z.array(z.enum([...RELAY_EVENT_TYPES, '*'])).min(1).meta({ description: 'event types delivered; `*` is every type' });
const ChannelFilter = z.array(ChannelId).min(1).meta({ description: 'channels whose events are delivered; absent: every channel' });
const Url = z.url({ protocol: /^https?$/ }).meta({ description: 'http(s) URL the events are POSTed to (kind `http`)' });

export const SubscriberCreate = z.object({
  name: SubscriberName,
  kind: z.enum(['queue', 'http']),
  url: Url.optional(),
  secret: WebhookSecret.optional().meta({ description: 'kind `http`: generated (and returned once) when absent' }),
  types: EventTypeFilter.optional(),
  channels: ChannelFilter.optional(),
  enabled: z.boolean().optional(),
});

export const SubscriberPatch = z.object({
  url: Url.optional(),
  types: EventTypeFilter.optional(),
  channels: ChannelFilter.nullable().optional().meta({ description: 'null: every channel again' }),
  enabled: z.boolean().optional(),
});

/** A subscriber as the API shows it: never its secret, only a hint of it. */
export const Subscriber = z.object({
  name: SubscriberName,
  kind: z.enum(['queue', 'http']),
  url: Url.optional(),
  types: EventTypeFilter,
  channels: ChannelFilter.optional(),
  enabled: z.boolean(),
  secretHint: z.string().optional().meta({ description: 'the first characters of the current secret (kind `http`)' }),
  secretOverlapUntil: z.iso.datetime().optional().meta({ description: 'until then pushes are signed with the previous secret too' }),
});

/** `201` of create: the subscriber and, for `http`, its secret (shown this once). */
export const SubscriberCreated = Subscriber.extend({ secret: WebhookSecret.optional() });

export const SubscriberList = z.object({ items: z.array(Subscriber) });

export const RotateSecretRequest = z.object({
  secret: WebhookSecret.optional().meta({ description: 'the new secret; generated when absent' }),
  overlapSeconds: z.int().min(0).max(7 * 86_400).optional().meta({ description: 'how long pushes also carry the old signature', default: 86_400 }),
});

export const RotateSecretResult = z.object({
  name: SubscriberName,
  secret: WebhookSecret.meta({ description: 'the new secret, shown this once' }),
  secretOverlapUntil: z.iso.datetime(),
});
