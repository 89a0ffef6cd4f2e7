import { z } from 'zod';
import { MessageStatus, Recipient } from '@cbot-relay/messages';
import { Attempt, MessageRecord } from '@cbot-relay/records';
import { ChannelId, RelayId, Tag } from './send.js';

const isoTime = z.iso.datetime({ offset: true });

/**
 * `GET /v1/messages/{id}` and the items of `GET /v1/messages`: the stored record, with its caller only in an admin's list.
 * `history` is the records package's HistoryEntry, as the relay writes it.
 */
export const MessageView = MessageRecord.extend({
  id: RelayId,
  status: MessageStatus.meta({
    description: 'moves scheduled → queued → sending → sent → delivered → read, or ends failed, expired or canceled; never moves back',
  }),
  channel: ChannelId.meta({ description: 'the channel that sends it (records from before channels: default)' }),
  caller: z.string().optional().meta({ description: "the name of the caller's key: only in an admin key's list" }),
  attempts: z.array(Attempt).meta({ description: 'each send attempt: its time, outcome, CBOT HTTP status and error' }),
  to: z.string().meta({ description: 'the recipient as queued: without a leading + or surrounding spaces' }),
  cbotMessageId: z.string().nullable().meta({ description: "CBOT's message id (wamid) once sent" }),
  createdAt: isoTime,
  updatedAt: isoTime,
  expiresAt: isoTime.optional(),
  tag: Tag.optional().meta({ description: 'X-Relay-Tag of the send' }),
  sendAt: isoTime.optional().meta({ description: 'X-Relay-Send-At of the send, when it was ahead (the message was scheduled)' }),
  error: z.unknown().optional().meta({ description: 'why the message failed (the CBOT error, or the relay\'s reason)' }),
});
export type MessageView = z.infer<typeof MessageView>;

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 200;

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' });

/**
 * `GET /v1/messages` query, as the ingress parses it: every parameter optional, each at most once,
 * nothing else. Newest first, the caller's messages (an admin key sees every caller's).
 */
export const ListQuery = z.strictObject({
  to: Recipient.optional().meta({ description: 'recipient, normalised like the record\'s `to` (encode a leading + as %2B)' }),
  status: MessageStatus.optional().meta({ description: 'only messages in this status now' }),
  tag: Tag.optional().meta({ description: 'only messages sent with this X-Relay-Tag' }),
  since: instant.optional().meta({ description: 'accepted at or after' }),
  until: instant.optional().meta({ description: 'accepted before; must be after `since`' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${LIST_MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.int().min(1).max(LIST_MAX_LIMIT))
    .optional()
    .meta({ description: `page size, 1 to ${LIST_MAX_LIMIT}; ${LIST_DEFAULT_LIMIT} when absent` }),
  cursor: z.string().optional().meta({ description: 'opaque: `nextCursor` of the previous page' }),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const MessageList = z.object({
  items: z.array(MessageView),
  nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last' }),
});
export type MessageList = z.infer<typeof MessageList>;
