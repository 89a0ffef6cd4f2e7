import { z } from 'zod';
import { isJsonObject, ownValue } from './json-object.js';

/**
 * A 2xx answer to `POST /v1/messages` (On-Premises and Cloud alike). Only
 * `messages[].id` is required: Cloud's `contacts` and `messaging_product` stay
 * as unknown keys, so an odd extra can never turn a send into a failure (and a resend).
 */
export const CbotSendSuccess = z.looseObject({
  messages: z.array(z.looseObject({ id: z.string().min(1) })).min(1),
});
export type CbotSendSuccess = z.infer<typeof CbotSendSuccess>;

export const CbotError = z.object({
  code: z.number(),
  title: z.string().optional(),
  details: z.string().optional(),
});
export type CbotError = z.infer<typeof CbotError>;

/**
 * The WhatsApp errors in a CBOT answer (or in a failed status, which carries the
 * same `errors` array): On-Premises `{"errors": [...]}` and Cloud `{"error": {...}}`.
 * Entries without a usable code are skipped; anything else gives `[]`. Never throws.
 */
export function extractCbotErrors(body: unknown): CbotError[] {
  if (!isJsonObject(body)) return [];
  const found: CbotError[] = [];
  const onPrem = ownValue(body, 'errors');
  if (Array.isArray(onPrem)) {
    for (const entry of onPrem) {
      if (!isJsonObject(entry)) continue;
      const error = cbotError(ownValue(entry, 'code'), ownValue(entry, 'title'), ownValue(entry, 'details'));
      if (error) found.push(error);
    }
  }
  const cloud = ownValue(body, 'error');
  if (isJsonObject(cloud)) {
    const data = ownValue(cloud, 'error_data');
    const details = isJsonObject(data) ? ownValue(data, 'details') : undefined;
    const error = cbotError(ownValue(cloud, 'code'), ownValue(cloud, 'message'), details);
    if (error) found.push(error);
  }
  return found;
}

function cbotError(code: unknown, title: unknown, details: unknown): CbotError | undefined {
  const numeric = toCode(code);
  if (numeric === undefined) return undefined;
  const error: CbotError = { code: numeric };
  if (typeof title === 'string') error.title = title;
  if (typeof details === 'string') error.details = details;
  return error;
}

// Some gateways send codes as strings ("131056"); classification needs numbers.
function toCode(code: unknown): number | undefined {
  if (typeof code === 'number') return Number.isSafeInteger(code) ? code : undefined;
  if (typeof code === 'string' && /^\s*-?\d{1,15}\s*$/.test(code)) return Number(code);
  return undefined;
}
