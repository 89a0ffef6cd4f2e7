import { z } from 'zod';
import { Link, ReactionEmoji, idField, textField } from './text-field.js';

// Content objects of the On-Premises message types. Every object is loose: the relay forwards the
// caller's JSON unchanged, these schemas only validate. Limits are WhatsApp's documented ones where it
// documents one (text 4,096, captions 1,024, template name 512); elsewhere a generous bound, named as
// such, so a body WhatsApp would refuse anyway, or one built to fill Redis, stops at the door.

/** Media ids are WhatsApp's numeric handles (~16 digits); 256 is far above any seen. */
export const MEDIA_ID_MAX = 256;
/** wamids are ~60 characters of base64; 256 leaves room without letting a field carry a payload. */
export const MESSAGE_ID_MAX = 256;
/** Not documented by WhatsApp: the file-system ceiling. */
export const FILENAME_MAX = 255;
/** Not documented by WhatsApp for location and contact text: a bound, not a WhatsApp rule. */
export const FREE_TEXT_MAX = 1024;

export const TextContent = z.looseObject({
  body: textField(4096),
  preview_url: z.boolean().optional(), // Cloud API puts it here; On-Premises at the top level
});

export const mediaSource = {
  id: idField(MEDIA_ID_MAX).optional(),
  link: Link.optional(),
};
const caption = textField(1024).optional();

// "At least one of": which one wins when both are given is CBOT's call.
const hasSource = (media: { id?: string | undefined; link?: string | undefined }) =>
  media.id !== undefined || media.link !== undefined;
const needsSource = { message: 'needs an id or a link' };
/** The same rule for JSON Schema (the OpenAPI description), which cannot see the refinement. */
const sourceRule = { anyOf: [{ required: ['id'] }, { required: ['link'] }] };

export const AudioContent = z.looseObject({ ...mediaSource }).refine(hasSource, needsSource).meta(sourceRule);
export const StickerContent = z.looseObject({ ...mediaSource }).refine(hasSource, needsSource).meta(sourceRule);
export const ImageContent = z.looseObject({ ...mediaSource, caption }).refine(hasSource, needsSource).meta(sourceRule);
export const VideoContent = z.looseObject({ ...mediaSource, caption }).refine(hasSource, needsSource).meta(sourceRule);
export const DocumentContent = z
  .looseObject({ ...mediaSource, caption, filename: textField(FILENAME_MAX).optional() })
  .refine(hasSource, needsSource).meta(sourceRule);

export const LocationContent = z.looseObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  name: textField(FREE_TEXT_MAX, 0).optional(),
  address: textField(FREE_TEXT_MAX, 0).optional(),
});

const free = textField(FREE_TEXT_MAX, 0).optional();
const typed = { type: textField(64, 0).optional() };

export const ContactCard = z.looseObject({
  name: z.looseObject({
    formatted_name: textField(FREE_TEXT_MAX),
    first_name: free,
    last_name: free,
    middle_name: free,
    suffix: free,
    prefix: free,
  }),
  phones: z.array(z.looseObject({ ...typed, phone: textField(64, 0).optional(), wa_id: textField(64, 0).optional() })).optional(),
  // 320: the longest address SMTP carries (RFC 5321: 64 local + @ + 255 domain).
  emails: z.array(z.looseObject({ ...typed, email: textField(320, 0).optional() })).optional(),
  addresses: z
    .array(
      z.looseObject({
        ...typed,
        street: free,
        city: free,
        state: free,
        zip: textField(64, 0).optional(),
        country: free,
        country_code: textField(8, 0).optional(),
      }),
    )
    .optional(),
  urls: z.array(z.looseObject({ ...typed, url: textField(2048, 0).optional() })).optional(),
  org: z.looseObject({ company: free, department: free, title: free }).optional(),
  birthday: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional(),
});
export const ContactsContent = z.array(ContactCard).min(1);

export const TemplateContent = z.looseObject({
  name: textField(512),
  namespace: idField(128).optional(),
  // Language codes are `en`, `en_US`, `zh_HK`...: 16 is well above the longest.
  language: z.looseObject({ code: idField(16), policy: idField(32).optional() }),
  components: z.array(z.looseObject({ type: idField(32) })).optional(),
});

export const ReactionContent = z.looseObject({
  message_id: idField(MESSAGE_ID_MAX),
  emoji: ReactionEmoji, // "" removes an earlier reaction
});
