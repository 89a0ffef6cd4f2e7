import { z } from 'zod';
import { isJsonObject, ownValue } from './json-object.js';

export const PRICING_CATEGORIES = ['marketing', 'utility', 'authentication', 'service'] as const;
export const PRICING_TYPES = ['regular', 'free_customer_service', 'free_entry_point'] as const;

/**
 * What a message cost, as the relay keeps it on the record: from a status callback's `pricing` (and
 * `conversation`), both APIs. `model` is WhatsApp's `pricing_model` (`CBP`, `PMP`) or null.
 */
export const Pricing = z
  .object({
    billable: z.boolean(),
    model: z.string().nullable(),
    category: z.string().meta({ description: 'marketing, utility, authentication or service (other WhatsApp categories are kept as given)' }),
    type: z.enum(PRICING_TYPES),
  })
  .meta({ description: "what the message cost, from the first status callback that carried `pricing` or `conversation`" });
export type Pricing = z.infer<typeof Pricing>;

/** Older and narrower category names, as the four the usage counts know. */
const CATEGORY_ALIASES: Record<string, string> = {
  user_initiated: 'service',
  business_initiated: 'marketing',
  authentication_international: 'authentication',
  marketing_lite: 'marketing',
  referral_conversion: 'service',
};

/** Category labels are bounded: an odd value from CBOT must not make a metric or usage field explode. */
const CATEGORY = /^[a-z][a-z0-9_]{0,31}$/;

const text = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : undefined);

/**
 * The pricing a status callback carries, or undefined when it carries none. Cloud: `pricing:
 * {billable, pricing_model, category, type}`; On-Premises and older Cloud: `pricing: {billable,
 * pricing_model, category}` and/or `conversation: {origin: {type}}`. `type` is WhatsApp's when
 * given; else free entry point for `referral_conversion`, free customer service for a service
 * (user-initiated) category that is not billable or has no billable flag, else regular.
 */
export function pricingFromStatus(status: unknown): Pricing | undefined {
  if (!isJsonObject(status)) return undefined;
  const pricing = ownValue(status, 'pricing');
  const conversation = ownValue(status, 'conversation');
  const p = isJsonObject(pricing) ? pricing : undefined;
  const origin = isJsonObject(conversation) ? ownValue(conversation, 'origin') : undefined;
  const originType = isJsonObject(origin) ? text(ownValue(origin, 'type')) : undefined;
  const rawCategory = (p ? text(ownValue(p, 'category')) : undefined) ?? originType;
  if (rawCategory === undefined || !CATEGORY.test(rawCategory)) return p || originType ? unknownPricing(p) : undefined;
  const category = CATEGORY_ALIASES[rawCategory] ?? rawCategory;
  const billableRaw = p ? ownValue(p, 'billable') : undefined;
  const given = p ? text(ownValue(p, 'type')) : undefined;
  let type: Pricing['type'];
  if (given !== undefined && (PRICING_TYPES as readonly string[]).includes(given)) type = given as Pricing['type'];
  else if (rawCategory === 'referral_conversion' || originType === 'referral_conversion') type = 'free_entry_point';
  else if (category === 'service' && billableRaw !== true) type = 'free_customer_service';
  else type = 'regular';
  const billable = typeof billableRaw === 'boolean' ? billableRaw : type === 'regular';
  const model = p ? ownValue(p, 'pricing_model') : undefined;
  return { billable, model: typeof model === 'string' && model.length <= 32 ? model : null, category, type };
}

/** A pricing object without a readable category: counted, as `unknown`, so usage still adds up. */
function unknownPricing(p: Record<string, unknown> | undefined): Pricing {
  const billable = p ? ownValue(p, 'billable') : undefined;
  const model = p ? ownValue(p, 'pricing_model') : undefined;
  return { billable: billable === true, model: typeof model === 'string' && model.length <= 32 ? model : null, category: 'unknown', type: 'regular' };
}
