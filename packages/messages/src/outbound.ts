import { z } from 'zod';
import { type FieldIssue, issueMessage, toFieldIssues } from './field-issue.js';
import { isJsonObject } from './json-object.js';
import {
  AudioContent,
  ContactsContent,
  DocumentContent,
  ImageContent,
  LocationContent,
  MESSAGE_ID_MAX,
  ReactionContent,
  StickerContent,
  TemplateContent,
  TextContent,
  VideoContent,
} from './outbound-content.js';
import { InteractiveContent } from './outbound-interactive.js';
import { Recipient, idField } from './text-field.js';

export const OUTBOUND_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'template',
  'reaction',
] as const;
export type OutboundType = (typeof OUTBOUND_TYPES)[number];

// recipient_type is left out when absent: CBOT applies "individual" itself.
const envelope = {
  to: Recipient,
  recipient_type: z.literal('individual').optional(),
  messaging_product: z.literal('whatsapp').optional(),
  context: z.looseObject({ message_id: idField(MESSAGE_ID_MAX) }).optional(),
};

export const OutboundMessage = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ ...envelope, type: z.literal('text'), text: TextContent, preview_url: z.boolean().optional() }),
    z.looseObject({ ...envelope, type: z.literal('image'), image: ImageContent }),
    z.looseObject({ ...envelope, type: z.literal('audio'), audio: AudioContent }),
    z.looseObject({ ...envelope, type: z.literal('video'), video: VideoContent }),
    z.looseObject({ ...envelope, type: z.literal('document'), document: DocumentContent }),
    z.looseObject({ ...envelope, type: z.literal('sticker'), sticker: StickerContent }),
    z.looseObject({ ...envelope, type: z.literal('location'), location: LocationContent }),
    z.looseObject({ ...envelope, type: z.literal('contacts'), contacts: ContactsContent }),
    z.looseObject({ ...envelope, type: z.literal('interactive'), interactive: InteractiveContent }),
    z.looseObject({ ...envelope, type: z.literal('template'), template: TemplateContent }),
    z.looseObject({ ...envelope, type: z.literal('reaction'), reaction: ReactionContent }),
  ],
  {
    error: (issue) => (issue.code === 'invalid_union' ? `must be one of: ${OUTBOUND_TYPES.join(', ')}` : undefined),
  },
);
export type OutboundMessage = z.infer<typeof OutboundMessage>;

export type OutboundValidation = { ok: true; message: OutboundMessage } | { ok: false; issues: FieldIssue[] };

export function validateOutboundMessage(body: unknown): OutboundValidation {
  if (!isJsonObject(body)) return { ok: false, issues: [{ path: '', message: 'body must be a JSON object' }] };
  const result = OutboundMessage.safeParse(body, { error: issueMessage });
  if (!result.success) return { ok: false, issues: toFieldIssues(result.error) };
  // The caller's own object, not zod's copy: the copy reorders keys and drops
  // `__proto__`, and the relay must forward the JSON it was given unchanged.
  // Sound because the schema has no transforms or defaults.
  return { ok: true, message: body as OutboundMessage };
}
