/**
 * A WhatsApp id as a key: `+90555…`, `90555…` and ` 90555… ` are one recipient for ordering,
 * throttling, history and dedupe. Surrounding whitespace and one leading `+` go; the digits stay.
 * Validation (outbound.ts) decides what is a valid `to`; this only decides what is the same one.
 */
export function normalizeRecipient(to: string): string {
  const t = to.trim();
  return t.startsWith('+') ? t.slice(1) : t;
}
