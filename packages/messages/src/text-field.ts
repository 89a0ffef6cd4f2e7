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
    .refine((s) => s.length <= max || [...s].length <= max, { message: `must be at most ${max} characters` });
}
