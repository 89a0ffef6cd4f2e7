import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RELAY_EVENT_TYPES } from '@cbot-relay/messages';

/** Safe inside a BullMQ queue name (`events.<name>`, `push.<name>`) and a Redis ACL key pattern. */
export const SUBSCRIBER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const EventTypes = z.array(z.union([z.literal('*'), z.enum(RELAY_EVENT_TYPES)]));

/** A secret that still signs until `expiresAt` (epoch ms): the overlap window of a rotation. */
export const PreviousSecret = z.object({ secret: z.string(), expiresAt: z.number().int() });
export type PreviousSecret = z.infer<typeof PreviousSecret>;

const common = {
  name: z.string().regex(SUBSCRIBER_NAME),
  types: EventTypes,
  /** Absent or `["*"]`: every channel; an event without `channel` is channel `default`. */
  channels: z.array(z.string()).optional(),
  /** false: fanout adds no new events for it and its HTTP pushes wait; true again resumes them. */
  enabled: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  /** Where it was created: seeded from SUBSCRIPTIONS_FILE, or by the admin API. */
  source: z.enum(['file', 'api']),
};

const QueueSubscriberRecord = z.object({
  ...common,
  kind: z.literal('queue'),
  maxWaiting: z.number().int().min(0).optional(),
  maxAgeS: z.number().int().min(0).optional(),
});
const HttpSubscriberRecord = z.object({
  ...common,
  kind: z.literal('http'),
  url: z.string(),
  secret: z.string(),
  previousSecrets: z.array(PreviousSecret),
});

/**
 * A subscriber as the relay keeps it in Redis (`SubscriberStore`). The admin API and
 * SUBSCRIPTIONS_FILE validate what they accept; this schema checks what is read back. The secret is
 * stored in clear (the relay must sign with it): guard Redis as the relay's credentials.
 */
export const SubscriberRecord = z.discriminatedUnion('kind', [QueueSubscriberRecord, HttpSubscriberRecord]);
export type SubscriberRecord = z.infer<typeof SubscriberRecord>;
export type HttpSubscriberRecord = z.infer<typeof HttpSubscriberRecord>;

/** Whether a subscriber takes events of this channel (`default` when the event names none). */
export function wantsChannel(sub: { channels?: readonly string[] | undefined }, channel: string | undefined): boolean {
  const channels = sub.channels;
  if (channels === undefined || channels.includes('*')) return true;
  return channels.includes(channel ?? 'default');
}

/** The secrets an HTTP push is signed with at `nowMs`: the current one, then those still in their overlap. */
export function signingSecrets(sub: { secret: string; previousSecrets?: readonly PreviousSecret[] | undefined }, nowMs: number): string[] {
  return [sub.secret, ...(sub.previousSecrets ?? []).filter((p) => p.expiresAt > nowMs).map((p) => p.secret)];
}

/** Most secrets one subscriber signs with at once (the current one and three in their overlap). */
const MAX_SECRETS = 4;

/**
 * A rotation: `secret` becomes the current one; the old one keeps signing for `overlapS` seconds (0:
 * not at all), beside earlier ones still in their own overlap. Pure: the caller stores the result.
 */
export function rotateSecret<T extends HttpSubscriberRecord>(sub: T, secret: string, overlapS: number, nowMs: number): T {
  const still = sub.previousSecrets.filter((p) => p.expiresAt > nowMs && p.secret !== secret);
  const old = overlapS > 0 && sub.secret !== secret ? [{ secret: sub.secret, expiresAt: nowMs + overlapS * 1000 }] : [];
  return { ...sub, secret, previousSecrets: [...old, ...still].slice(0, MAX_SECRETS - 1), updatedAt: nowMs };
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
