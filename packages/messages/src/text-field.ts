import { z } from 'zod';

/**
 * A string of `min..max` characters counted in code points, so an emoji in a
 * button title counts once (as WhatsApp shows it), not as two UTF-16 units.
 */
export function textField(max: number, min = 1) {
  return z
    .string()
    .min(min)
    // The UTF-16 length bounds the code point count, so most strings skip the spread.
    .refine((s) => s.length <= max || [...s].length <= max, { message: `must be at most ${max} characters` })
    // JSON Schema's maxLength counts code points too: the OpenAPI description states the same bound.
    .meta({ maxLength: max });
}

/** An id or code: `1..max` UTF-16 units (ids are ASCII, so that is characters). */
export function idField(max: number) {
  return z.string().min(1).max(max);
}

/** WhatsApp ids are at most 15 digits (E.164); `+` and surrounding whitespace are what normalizeRecipient strips. */
export const Recipient = z.string().superRefine((s, ctx) => {
  if (s.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (!/^\+?\d{1,15}$/.test(s.trim())) {
    ctx.addIssue({ code: 'custom', message: 'must be a WhatsApp id: 1 to 15 digits, optionally after a +' });
  }
}).meta({ pattern: '^\\s*\\+?[0-9]{1,15}\\s*$', description: 'WhatsApp id: 1 to 15 digits, optionally after a +' });

/** Media and document links: http(s) URLs WhatsApp fetches, at most 2,048 characters (the common URL ceiling). */
export const MAX_LINK_CHARS = 2048;
export const Link = z.string().superRefine((s, ctx) => {
  if (s.length > MAX_LINK_CHARS) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_LINK_CHARS} characters` });
  else if (!isHttpUrl(s)) ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
}).meta({ maxLength: MAX_LINK_CHARS, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://\\S' });

function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\/[^\s]/i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

const REACTION_PATTERN =
  '^(?:\\p{RI}\\p{RI}|\\P{M}[\\p{M}\\p{Emoji_Modifier}\\u{E0020}-\\u{E007F}]*(?:\\u200D\\P{M}[\\p{M}\\p{Emoji_Modifier}]*)*)?$';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** One emoji as WhatsApp shows it (a grapheme: flags, skin tones and ZWJ families included), or "" to remove a reaction. */
export const ReactionEmoji = z.string().superRefine((s, ctx) => {
  if (s !== '' && (s.length > 32 || [...segmenter.segment(s)].length !== 1)) {
    ctx.addIssue({ code: 'custom', message: 'must be a single emoji, or "" to remove one' });
  }
}).meta({
  description: 'one emoji (one grapheme), or "" to remove an earlier reaction',
  // An approximation of one grapheme for JSON Schema validators: a base code point with its marks,
  // modifiers, tags and ZWJ sequels, or a flag (two regional indicators). The relay checks graphemes.
  pattern: REACTION_PATTERN,
});
