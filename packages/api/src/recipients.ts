import { z } from 'zod';
import { ChannelId, WindowState } from './send.js';

const isoTime = z.iso.datetime({ offset: true });

/** `GET /v1/recipients/{to}`: WhatsApp's rules for one recipient on one channel. */
export const RecipientView = z.object({
  to: z.string().meta({ description: 'the recipient, normalised like a send (no leading + or spaces)' }),
  channel: ChannelId,
  lastInboundAt: isoTime.nullable().meta({ description: "the recipient's newest inbound message on the channel (its own timestamp, clamped to the relay's clock); null when none is known" }),
  window: WindowState,
  windowClosesAt: isoTime.nullable().meta({ description: 'lastInboundAt + 24 h; null when no inbound is known' }),
  optedOut: z.boolean(),
  optedOutAt: isoTime.nullable(),
});
export type RecipientView = z.infer<typeof RecipientView>;

/** One opted-out recipient. */
export const OptOut = z.object({ to: z.string(), channel: ChannelId, optedOutAt: isoTime });
export type OptOut = z.infer<typeof OptOut>;

export const OPT_OUT_DEFAULT_LIMIT = 100;
export const OPT_OUT_MAX_LIMIT = 500;

/** `GET /v1/opt-outs` query. */
export const OptOutListQuery = z.strictObject({
  channel: ChannelId.optional().meta({ description: 'the channel; the default channel when absent' }),
  cursor: z.string().max(64).optional().meta({ description: 'opaque: `nextCursor` of the previous page' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${OPT_OUT_MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.int().min(1).max(OPT_OUT_MAX_LIMIT))
    .optional()
    .meta({ description: `page size, 1 to ${OPT_OUT_MAX_LIMIT}; ${OPT_OUT_DEFAULT_LIMIT} when absent` }),
});
export type OptOutListQuery = z.infer<typeof OptOutListQuery>;

/** The `?channel=` of the routes about one recipient. */
export const ChannelQuery = z.strictObject({
  channel: ChannelId.optional().meta({ description: 'the channel; the default channel when absent' }),
});

export const OptOutList = z.object({
  items: z.array(OptOut).meta({ description: 'in recipient order' }),
  nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last' }),
});
export type OptOutList = z.infer<typeof OptOutList>;
