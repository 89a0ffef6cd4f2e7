import { z } from 'zod';
import { RelayEvent } from '@cbot-relay/messages';
import { MessageView } from './records.js';

/** A failed outbound message (status `failed`): replay sends it again under the same id. */
export const MessageDeadLetter = MessageView.omit({ caller: true }).extend({ kind: z.literal('message') });

/** An event a subscriber never took (its retries ran out). */
export const EventDeadLetter = z.object({
  kind: z.literal('event'),
  id: z.string().regex(/^evt_[0-9a-f]{32}\.[A-Za-z0-9_-]{1,64}$/).meta({ description: '`<event id>.<subscriber>`: what replay takes' }),
  subscriber: z.string(),
  type: z.string(),
  failedReason: z.string(),
  attemptsMade: z.int(),
  failedAt: z.iso.datetime().nullable(),
  event: RelayEvent,
});

/** `GET /v1/dead-letters`: message dead letters newest first (subscriber ones on the first page). */
export const DeadLetterList = z.object({
  items: z.array(z.discriminatedUnion('kind', [MessageDeadLetter, EventDeadLetter])),
  next: z.string().optional().meta({ description: 'pass as `before` for the next page of message dead letters' }),
});
export type DeadLetterList = z.infer<typeof DeadLetterList>;

/** `POST /v1/dead-letters/replay`: which dead letters, and since when (their failure time). */
export const ReplayManyRequest = z.strictObject({
  kind: z.enum(['event', 'message', 'all']),
  since: z.iso.datetime({ offset: true }).optional(),
});
export type ReplayManyRequest = z.infer<typeof ReplayManyRequest>;

export const ReplayManyResult = z.object({
  replayed: z.int().min(0),
  skipped: z.int().min(0).meta({ description: 'no longer failed (replayed meanwhile), or body expired' }),
  more: z.boolean().meta({ description: 'true: the per-call cap was reached, call again' }),
});
export type ReplayManyResult = z.infer<typeof ReplayManyResult>;

/** `202` of `POST /v1/dead-letters/{id}/replay`: queued again (the message or the subscriber delivery). */
export const ReplayAccepted = z.object({ id: z.string(), status: z.literal('queued') });
