import { z } from 'zod';

export const inboundKinds = [
  'text', 'image', 'location', 'contacts', 'interactive_button', 'interactive_list',
  'audio', 'video', 'document', 'sticker', 'voice', 'reaction', 'unknown',
] as const;
export type InboundKind = (typeof inboundKinds)[number];

export const InboundRequest = z
  .object({
    kind: z.enum(inboundKinds).default('text'),
    /** Sender's WhatsApp id (digits). */
    from: z.string().regex(/^\d{6,20}$/, 'digits only').default('905551112233'),
    /** Sender's profile name. */
    name: z.string().default('Ayşe Yılmaz'),
    /** Text body, or caption / title / emoji depending on kind. */
    text: z.string().optional(),
    /** Media kinds: the media id the message carries (e.g. one uploaded to the simulator); default a random one. */
    mediaId: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/).optional(),
    /** Message this one replies to (context.id; reaction target). */
    replyTo: z.string().optional(),
    format: z.enum(['onprem', 'cloud']).default('onprem'),
    /** Number of deliveries of the same payload (CBOT redelivers callbacks). */
    times: z.number().int().min(1).max(1000).default(1),
    /** Deliver the copies at the same time rather than one after the other. */
    concurrent: z.boolean().default(false),
    /** HTTP only: answer after every copy finished, with the callback log. */
    wait: z.boolean().default(false),
  })
  .strict();
export type InboundRequest = z.input<typeof InboundRequest>;
export type ParsedInboundRequest = z.output<typeof InboundRequest>;

export const CallbackRequest = z
  .object({
    payload: z.unknown().refine((p) => p !== undefined, 'required'),
    times: z.number().int().min(1).max(1000).default(1),
    concurrent: z.boolean().default(false),
    wait: z.boolean().default(false),
  })
  .strict();

export const RedeliverRequest = z
  .object({
    callbackId: z.string(),
    times: z.number().int().min(1).max(1000).default(1),
    concurrent: z.boolean().default(false),
    wait: z.boolean().default(false),
  })
  .strict();
