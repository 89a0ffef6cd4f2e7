import { z } from 'zod';

export const MessageStatus = z.enum(['scheduled', 'queued', 'sending', 'sent', 'failed', 'expired', 'canceled', 'delivered', 'read']);
export type MessageStatus = z.infer<typeof MessageStatus>;

/**
 * Order in which a relay message's status may move; it only ever moves to a
 * higher rank. failed/expired outrank sent (a late "sent" callback must not
 * undo them) but not delivered/read (those prove the message did arrive).
 * scheduled (X-Relay-Send-At) comes before queued; canceled is final like expired (a canceled
 * message was never handed to CBOT, so no callback can name it).
 */
export const STATUS_RANK: Readonly<Record<MessageStatus, number>> = {
  scheduled: -1,
  queued: 0,
  sending: 1,
  sent: 2,
  failed: 2.5,
  expired: 2.5,
  canceled: 2.5,
  delivered: 3,
  read: 4,
};

export function isMessageStatus(s: unknown): s is MessageStatus {
  return typeof s === 'string' && Object.hasOwn(STATUS_RANK, s);
}
