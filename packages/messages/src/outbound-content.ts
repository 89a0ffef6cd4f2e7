import { z } from 'zod';
import { textField } from './text-field.js';

// Content objects of the On-Premises message types. Every object is loose:
// the relay forwards the caller's JSON unchanged, these schemas only validate.

export const TextContent = z.looseObject({
  body: textField(4096),
  preview_url: z.boolean().optional(), // Cloud API puts it here; On-Premises at the top level
});

const mediaSource = {
  id: z.string().min(1).optional(),
  link: z.string().min(1).optional(),
};
const caption = textField(1024).optional();

// "At least one of": which one wins when both are given is CBOT's call.
const hasSource = (media: { id?: string | undefined; link?: string | undefined }) =>
  media.id !== undefined || media.link !== undefined;
const needsSource = { message: 'needs an id or a link' };

export const AudioContent = z.looseObject({ ...mediaSource }).refine(hasSource, needsSource);
export const StickerContent = z.looseObject({ ...mediaSource }).refine(hasSource, needsSource);
export const ImageContent = z.looseObject({ ...mediaSource, caption }).refine(hasSource, needsSource);
export const VideoContent = z.looseObject({ ...mediaSource, caption }).refine(hasSource, needsSource);
export const DocumentContent = z
  .looseObject({ ...mediaSource, caption, filename: z.string().min(1).optional() })
  .refine(hasSource, needsSource);

export const LocationContent = z.looseObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  name: z.string().optional(),
  address: z.string().optional(),
});

const typed = { type: z.string().optional() };

export const ContactCard = z.looseObject({
  name: z.looseObject({ formatted_name: z.string().min(1) }),
  phones: z.array(z.looseObject({ ...typed, phone: z.string().optional(), wa_id: z.string().optional() })).optional(),
  emails: z.array(z.looseObject({ ...typed, email: z.string().optional() })).optional(),
  addresses: z.array(z.looseObject({ ...typed })).optional(),
  urls: z.array(z.looseObject({ ...typed, url: z.string().optional() })).optional(),
  org: z.looseObject({}).optional(),
  birthday: z.string().optional(),
});
export const ContactsContent = z.array(ContactCard).min(1);

export const TemplateContent = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  language: z.looseObject({ code: z.string().min(1), policy: z.string().min(1).optional() }),
  components: z.array(z.looseObject({ type: z.string().min(1) })).optional(),
});

export const ReactionContent = z.looseObject({
  message_id: z.string().min(1),
  emoji: z.string(), // "" removes an earlier reaction
});
