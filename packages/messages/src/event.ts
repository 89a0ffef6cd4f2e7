import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EventMedia } from './media.js';

export const RELAY_EVENT_TYPES = [
  'message.received',
  'message.status',
  'template.status',
  'template.quality',
  'phone_number.quality',
  'account.update',
  'unrecognized',
] as const;
export const RelayEventType = z.enum(RELAY_EVENT_TYPES);
export type RelayEventType = z.infer<typeof RelayEventType>;

/** The event delivered to downstream subscribers: a wire contract, change it only deliberately. */
export const RelayEvent = z.object({
  id: z.string().regex(/^evt_[0-9a-f]{32}$/),
  type: RelayEventType,
  occurredAt: z.iso.datetime(),
  receivedAt: z.iso.datetime(),
  /** Set by the relay on status events for messages it sent. */
  relayMessageId: z.string().optional(),
  /**
   * message.received: the callback's `contacts[]` entry whose `wa_id` is the sender; over
   * EVENT_CONTACT_MAX_BYTES only `{wa_id, profile: {name}, truncated: true}`.
   */
  contact: z.record(z.string(), z.unknown()).optional(),
  /** Cloud API only: the change value's `metadata` (phone_number_id, display_phone_number). */
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** unrecognized events only, when the relay set the data aside on purpose: `callback_max_items`. */
  reason: z.string().optional(),
  /** Cloud `changes[].field` of template, quality and account events (`message_template_status_update`...). */
  field: z.string().optional(),
  /** The CBOT channel (number) the callback came in on. */
  channel: z.string().optional(),
  /** message.received of a media message: its id, type and where the relay serves it. */
  media: EventMedia.optional(),
  /** The CBOT message or status object (or unrecognized payload), unchanged. */
  data: z.unknown(),
});
export type RelayEvent = z.infer<typeof RelayEvent>;

/** Deterministic, so a redelivered callback yields the same ids and dedupes downstream. */
export function eventId(seed: string): string {
  return `evt_${createHash('sha256').update(seed, 'utf8').digest('hex').slice(0, 32)}`;
}
