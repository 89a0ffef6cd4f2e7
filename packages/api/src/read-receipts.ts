import { z } from 'zod';
import { ChannelId } from './send.js';

/** A CBOT message id as it appears in callbacks: Cloud `wamid.…` (base64), On-Premises plain ids. */
export const Wamid = z
  .string()
  .regex(/^[A-Za-z0-9._:=+/-]{1,256}$/)
  .meta({ description: "the inbound message's CBOT id (`messages[].id` of a `message.received` event); `/` percent-encoded", examples: ['wamid.HBgLOTA1NTUxMTEyMjMzFQIAEhgUM0VCMDRBNzE1QjQ0OEUzNDFDQTIA'] });

/** `POST /v1/messages/{wamid}/read`: the optional body. */
export const ReadRequest = z
  .object({ typing: z.boolean().optional().meta({ description: 'also show the typing indicator (Cloud channels; On-Premises has none and ignores it)' }) })
  .strict()
  .meta({ description: 'optional: an empty body is `{}`' });
export type ReadRequest = z.infer<typeof ReadRequest>;

/** `202` of a read receipt: durable in Redis, to be sent ahead of the recipient's queued messages. */
export const ReadAccepted = z.object({
  wamid: z.string(),
  channel: ChannelId,
  status: z.literal('queued'),
  duplicate: z.boolean().meta({ description: 'a receipt for this wamid was taken within the last 24 h: nothing more is sent' }),
});
export type ReadAccepted = z.infer<typeof ReadAccepted>;

/** `?channel=` of the read route (as the `channel` field of a send). */
export const ReadQuery = z.object({ channel: ChannelId.optional() }).strict();

/** Bodies of a read receipt are tiny; past this it is 413. */
export const READ_MAX_BODY_BYTES = 1024;
