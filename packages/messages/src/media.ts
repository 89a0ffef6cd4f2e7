import { z } from 'zod';

/** The kinds of media WhatsApp takes, each with its own size limit. */
export type MediaKind = 'image' | 'audio' | 'video' | 'document' | 'sticker';

const MB = 1024 * 1024;

/**
 * WhatsApp's supported media types and per-kind size limits (Cloud API "Supported media types"; the
 * On-Premises API has the same). Sizes are binary: 5 MB is 5 × 1,048,576 bytes; a sticker's
 * 500 KB is 500 × 1,024 (the animated-sticker limit; static ones are 100 KB, which CBOT checks).
 */
export const MEDIA_KINDS: Readonly<Record<MediaKind, { maxBytes: number; mimeTypes: readonly string[] }>> = {
  image: { maxBytes: 5 * MB, mimeTypes: ['image/jpeg', 'image/png'] },
  audio: { maxBytes: 16 * MB, mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'] },
  video: { maxBytes: 16 * MB, mimeTypes: ['video/mp4', 'video/3gpp'] },
  document: {
    maxBytes: 100 * MB,
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.ms-excel',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
  },
  sticker: { maxBytes: 500 * 1024, mimeTypes: ['image/webp'] },
};

/** The largest upload of any kind (a document). */
export const MEDIA_MAX_BYTES = Math.max(...Object.values(MEDIA_KINDS).map((k) => k.maxBytes));

/** `audio/ogg; codecs=opus` → `audio/ogg`: the type without parameters, lower-cased. */
export function mimeEssence(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The kind and size limit of a media type, or undefined when WhatsApp does not take it. */
export function mediaRule(contentType: string): { kind: MediaKind; maxBytes: number; mime: string } | undefined {
  const mime = mimeEssence(contentType);
  for (const [kind, rule] of Object.entries(MEDIA_KINDS) as [MediaKind, (typeof MEDIA_KINDS)[MediaKind]][]) {
    if (rule.mimeTypes.includes(mime)) return { kind, maxBytes: rule.maxBytes, mime };
  }
  return undefined;
}

/** Inbound message types whose object carries a media id (`voice`: On-Premises voice notes). */
export const INBOUND_MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker', 'voice'] as const;

/** Media ids go into URL paths (the relay's and CBOT's): only characters that need no escaping. */
export const MEDIA_ID_PATTERN = /^[A-Za-z0-9._-]{1,256}$/;

/** What a message.received event of a media message adds beside `data`. */
export const EventMedia = z.object({
  id: z.string(),
  mimeType: z.string().optional(),
  /** Where the relay serves it: `/v1/media/<id>?channel=<channel>`. */
  url: z.string(),
});
export type EventMedia = z.infer<typeof EventMedia>;

/** The media reference of an inbound message (either API's shape), or undefined when it has none. */
export function eventMedia(message: unknown, channel: string): EventMedia | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const type = m.type;
  if (typeof type !== 'string' || !(INBOUND_MEDIA_TYPES as readonly string[]).includes(type)) return undefined;
  const obj = m[type];
  if (typeof obj !== 'object' || obj === null) return undefined;
  const { id, mime_type: mime } = obj as { id?: unknown; mime_type?: unknown };
  if (typeof id !== 'string' || !MEDIA_ID_PATTERN.test(id)) return undefined;
  return {
    id,
    ...(typeof mime === 'string' ? { mimeType: mime } : {}),
    url: `/v1/media/${id}?channel=${encodeURIComponent(channel)}`,
  };
}
