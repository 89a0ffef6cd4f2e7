import { z } from 'zod';
import { CbotInboundMessage, CbotStatus, RelayEvent } from '@cbot-relay/messages';
import { ChannelId } from './send.js';

/** The On-Premises callback: messages and statuses at the top level. Unknown keys are kept. */
export const OnPremisesCallback = z.looseObject({
  contacts: z.array(z.looseObject({ wa_id: z.string().optional() })).optional(),
  messages: z.array(CbotInboundMessage.meta({ description: 'an inbound message (any type, unknown ones too)' })).optional(),
  statuses: z.array(CbotStatus.meta({ description: 'a delivery status (any value, unknown ones too)' })).optional(),
  errors: z.array(z.looseObject({})).optional(),
});

/** The Cloud API envelope: each change's `value` holds what an On-Premises callback holds, plus `metadata`. */
export const CloudCallback = z.looseObject({
  object: z.string(),
  entry: z.array(
    z.looseObject({
      id: z.string().optional(),
      changes: z.array(z.looseObject({ field: z.string().optional(), value: OnPremisesCallback.extend({ metadata: z.looseObject({}).optional() }) })),
    }),
  ),
});

/**
 * `POST /webhooks/cbot`: either shape; any other JSON object is kept too (as an `unrecognized` event),
 * never refused, since a refused callback is retried by CBOT and then lost.
 */
export const Callback = z.union([CloudCallback, OnPremisesCallback]);

export const CallbackAccepted = z.object({ status: z.literal('ok') });

/** What subscribers receive: a queue job's data, or the body of an HTTP push. */
export const Event = RelayEvent.extend({
  channel: ChannelId.optional().meta({ description: 'the channel the callback arrived on' }),
});
export type Event = z.infer<typeof Event>;
