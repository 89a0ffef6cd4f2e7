import { z } from 'zod';
import { MessageStatus } from '@cbot-relay/messages';
import { Attempt, MessageRecord } from '@cbot-relay/records';
import { ChannelId, RelayId } from './send.js';

const isoTime = z.iso.datetime({ offset: true });

/** One status the message reached, when the relay recorded it; `cbotAt` is CBOT's own time where a callback gave one. */
export const HistoryEntry = z.object({
  status: MessageStatus,
  at: isoTime,
  cbotAt: isoTime.optional(),
  error: z.unknown().optional().meta({ description: 'the CBOT error, where the status came with one' }),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/**
 * `GET /v1/messages/{id}` and the items of `GET /v1/messages`: the stored record without its caller.
 * `channel` and `history` are in the contract; they are optional here until every relay writes them.
 */
export const MessageView = MessageRecord.omit({ caller: true }).extend({
  id: RelayId,
  status: MessageStatus.meta({
    description: 'moves queued → sending → sent → delivered → read, or ends failed or expired; never moves back',
  }),
  channel: ChannelId.optional().meta({ description: 'the channel that sends it' }),
  attempts: z.array(Attempt).meta({ description: 'each send attempt: its time, outcome, CBOT HTTP status and error' }),
  history: z.array(HistoryEntry).optional(),
  to: z.string().meta({ description: 'the recipient as queued: without a leading + or surrounding spaces' }),
  cbotMessageId: z.string().nullable().meta({ description: "CBOT's message id (wamid) once sent" }),
  createdAt: isoTime,
  updatedAt: isoTime,
  expiresAt: isoTime.optional(),
  error: z.unknown().optional().meta({ description: 'why the message failed (the CBOT error, or the relay\'s reason)' }),
});
export type MessageView = z.infer<typeof MessageView>;

/** `GET /v1/messages` query: newest first, the caller's messages (an admin key sees every caller's). */
export const ListQuery = z.object({
  to: z.string().optional().meta({ description: 'recipient, normalised like the record\'s `to`' }),
  status: MessageStatus.optional(),
  since: isoTime.optional().meta({ description: 'created at or after' }),
  until: isoTime.optional().meta({ description: 'created before' }),
  limit: z.coerce.number().int().min(1).max(200).optional().meta({ description: 'page size', default: 50 }),
  cursor: z.string().optional().meta({ description: 'opaque: `nextCursor` of the previous page' }),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const MessageList = z.object({
  items: z.array(MessageView),
  nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last' }),
});
export type MessageList = z.infer<typeof MessageList>;
