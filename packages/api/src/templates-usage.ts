import { z } from 'zod';
import { PRICING_TYPES } from '@cbot-relay/messages';
import { ChannelId } from './send.js';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' });

/** `GET /v1/templates` query: the channel, as a send's `channel` field (the default channel when absent). */
export const TemplatesQuery = z.strictObject({
  channel: ChannelId.optional().meta({ description: 'a channel id (the default channel when absent); the key must be allowed on it' }),
});

/** One template as CBOT lists it; every field CBOT gives is passed on. */
export const Template = z
  .looseObject({
    name: z.string(),
    language: z.string().meta({ description: 'language code, e.g. `en_US`' }),
    status: z.string().optional().meta({ description: 'APPROVED, PENDING, REJECTED, PAUSED, DISABLED... (On-Premises in lower case)' }),
    category: z.string().optional(),
    components: z.array(z.unknown()).optional().meta({ description: 'HEADER, BODY, FOOTER, BUTTONS with their `{{n}}` placeholders' }),
  })
  .meta({ description: 'a message template as CBOT lists it' });

export const TemplateList = z.object({
  channel: ChannelId,
  fetchedAt: instant.meta({ description: 'when the relay loaded this list from CBOT (it reloads every TEMPLATES_REFRESH_S and on template.status events)' }),
  templates: z.array(Template),
});
export type TemplateList = z.infer<typeof TemplateList>;

/** The longest range (days) one usage question may cover. */
export const USAGE_MAX_RANGE_DAYS = 400;
/** The range when `since` is absent: this many days before `until`. */
export const USAGE_DEFAULT_DAYS = 30;

/** `GET /v1/usage` query. Counts are kept per UTC day: the range is widened to whole days. */
export const UsageQuery = z.strictObject({
  since: instant.optional().meta({ description: `from (rounded down to 00:00 UTC); ${USAGE_DEFAULT_DAYS} days before \`until\` when absent` }),
  until: instant.optional().meta({ description: `to (rounded up to the next 00:00 UTC); now when absent; at most ${USAGE_MAX_RANGE_DAYS} days after \`since\`` }),
  channel: ChannelId.optional().meta({ description: 'only this channel' }),
  caller: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a caller name')
    .optional()
    .meta({ description: "only this caller (an admin key; a caller key may name only itself)" }),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageItem = z.object({
  caller: z.string().meta({ description: "the name of the sending key (RELAY_API_KEYS)" }),
  channel: z.string(),
  category: z.string().meta({ description: 'marketing, utility, authentication or service (`unknown` when CBOT gave none readable)' }),
  type: z.enum(PRICING_TYPES),
  count: z.int().min(1).meta({ description: 'messages priced in the range, each counted once' }),
});

export const UsageReport = z.object({
  since: instant.meta({ description: 'start of the first UTC day counted' }),
  until: instant.meta({ description: 'end of the last UTC day counted (exclusive)' }),
  items: z.array(UsageItem),
});
export type UsageReport = z.infer<typeof UsageReport>;
