import { z } from 'zod';
import { OutboundMessage } from '@cbot-relay/messages';
import { MAX_SEND_AHEAD_S, PRIORITIES } from '@cbot-relay/records';
import { ErrorBody } from './errors.js';

/** `msg_` + 9 base-36 characters of time + 16 hex: what the ingress's newRelayId makes. */
export const RelayId = z.string().regex(/^msg_[0-9a-z]{9}[0-9a-f]{16}$/).meta({ examples: ['msg_mfx3k2a0b9f1c2d3e4f5a6b70'] });

export const ChannelId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .meta({ description: 'a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT' });

/** A send body's `fallback`: the template sent instead where the customer-service window refuses the message. */
export const Fallback = z
  .strictObject({
    type: z.literal('template'),
    template: z.looseObject({}).meta({ description: "a template message's `template` object (validated as one)" }),
  })
  .meta({
    description:
      'sent instead of the message, once and in its place in the recipient\'s order, where WhatsApp would refuse the free-form message for its ' +
      'customer-service window: at accept, at dispatch, or on CBOT\'s 131047 / 470 answer. Never sent to CBOT as part of the message',
  });

const channel = { channel: ChannelId.optional(), fallback: Fallback.optional() };

/** One send body per message type (the On-Premises shapes the relay validates), plus `channel` and `fallback`. */
export const SEND_VARIANTS = OutboundMessage.options.map((variant) => variant.extend(channel));

/** `POST /v1/messages`: a CBOT message body of one of the eleven types. */
export const SendRequest = z.discriminatedUnion('type', SEND_VARIANTS as unknown as [(typeof SEND_VARIANTS)[number], ...(typeof SEND_VARIANTS)[number][]]);
export type SendRequest = z.infer<typeof SendRequest>;

/** `202` of a send (and of a message replay): durable in Redis; `scheduled` when X-Relay-Send-At is ahead. */
export const SendAccepted = z.object({ id: RelayId, status: z.enum(['queued', 'scheduled']) });
export type SendAccepted = z.infer<typeof SendAccepted>;

// Header values, as the ingress reads them (send-routes.ts).
export const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .meta({ description: '1 to 255 visible ASCII characters; the same key with the same body within 24 h returns the first answer and sends nothing more; with another body it is 409' });
export const Priority = z.enum(PRIORITIES).meta({ description: '`high` goes first, `bulk` takes only the capacity others leave' });
export const MAX_EXPIRES_IN_S = 30 * 86_400;
export const ExpiresIn = z
  .int()
  .min(1)
  .max(MAX_EXPIRES_IN_S)
  .meta({ description: 'seconds: a message not handed to CBOT by then is not sent and ends `expired`' });

export { MAX_SEND_AHEAD_S };
export const SendAt = z.iso
  .datetime({ offset: true })
  .meta({
    description: `RFC 3339 time (with Z or an offset): the message is \`scheduled\` until then, at most ${MAX_SEND_AHEAD_S / 86_400} days ahead; a past time means now`,
    examples: ['2026-12-24T09:00:00+01:00'],
  });
export const Tag = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/)
  .meta({ description: '1 to 64 characters of A–Z a–z 0–9 . _ : -; labels the message for GET /v1/messages?tag= and POST /v1/messages/cancel', examples: ['campaign-2026-12'] });

/** `POST /v1/messages/cancel`: every unsent message of the caller with this tag (an admin key may name the caller, else every caller's). */
export const CancelTagRequest = z.strictObject({
  tag: Tag,
  caller: z.string().min(1).max(128).optional().meta({ description: "admin key only: whose messages (default: every caller's)" }),
});
export type CancelTagRequest = z.infer<typeof CancelTagRequest>;
export const CancelTagResult = z.object({ canceled: z.int().min(0).meta({ description: 'messages canceled now; none of them is sent' }) });
export type CancelTagResult = z.infer<typeof CancelTagResult>;

/** `POST /v1/messages/batch`: 1 to 100 send bodies, each with its own optional idempotency key. */
export const BATCH_MAX = 100;
/** The whole batch request, bytes; each item is still held to INGRESS_MAX_BODY_BYTES on its own. */
export const BATCH_MAX_BODY_BYTES = 1024 * 1024;

const itemCount = `must hold 1 to ${BATCH_MAX} items`;
const batchOf = <T extends z.ZodType>(item: T) =>
  z.strictObject(
    {
      messages: z
        .array(item, { error: (iss) => (iss.input === undefined ? 'required' : 'must be an array') })
        .min(1, { error: itemCount })
        .max(BATCH_MAX, { error: itemCount }),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field' : 'must be a JSON object') },
  );

/**
 * What the ingress checks of a whole batch before it takes each item on its own (an invalid item is
 * that item's 400, not the request's): BatchRequest with the items left unchecked.
 */
export const BatchEnvelope = batchOf(z.unknown());

/** A send body plus its own optional idempotency key, send time and tag (removed before the body is stored). */
export const BatchItem = z.intersection(SendRequest, z.object({ idempotencyKey: IdempotencyKey.optional(), sendAt: SendAt.optional(), tag: Tag.optional() }));
export const BatchRequest = batchOf(BatchItem);
export type BatchRequest = z.infer<typeof BatchRequest>;

/** `X-Relay-Window` on every 202: the recipient's customer-service window as the accept saw it. */
export const WindowState = z.enum(['open', 'closed', 'unknown']).meta({
  description: '`open`: an inbound message within 24 h; `closed`: older, or none while the relay has tracked the channel for 24 h; `unknown`: nothing seen yet',
});

export const BatchResult = z.union([
  z.object({ status: z.literal(202), id: RelayId, window: WindowState.meta({ description: "the recipient's customer-service window (as X-Relay-Window on a single send)" }) }),
  z.object({ status: z.int().min(400).max(599), error: ErrorBody.shape.error }),
]);
export type BatchResult = z.infer<typeof BatchResult>;
/** `207`: one result per item, in item order; each item made durable or refused on its own. */
export const BatchResponse = z.object({ results: z.array(BatchResult) });
export type BatchResponse = z.infer<typeof BatchResponse>;

/** `POST /v1/messages/stream`: lines (not blank) one request may carry; the next is answered 413 and the request ends. */
export const STREAM_MAX_LINES = 1_000_000;
/** Lines the ingress has read but not yet answered; past this it stops reading the body. */
export const STREAM_IN_FLIGHT = 1_000;
/** One line of a stream request: a batch item (a send body with its optional `idempotencyKey`). */
export const StreamLine = BatchItem.meta({ description: 'one line of a stream body: a send body with its optional own idempotencyKey' });
/** One line of a stream's answer: the batch's item result and the 1-based line of the body it answers. */
export const StreamResult = z.intersection(
  z.object({ line: z.int().min(1).meta({ description: 'the line of the request body this answers, counting from 1 (blank lines count but get no result)' }) }),
  BatchResult,
);
export type StreamResult = z.infer<typeof StreamResult>;
