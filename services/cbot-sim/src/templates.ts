import { z } from 'zod';
import type { SimApi } from './wa-errors.js';

/** A template as the simulator keeps it (Cloud's shape; On-Premises answers it in lower case). */
export interface SimTemplate {
  id: string;
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  components: Record<string, unknown>[];
}

/** What `pnpm start` shows: approved templates with placeholders in header, body and a URL button, and a pending one. */
export function defaultTemplates(): SimTemplate[] {
  return [
    {
      id: '1000000000000001',
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
        { type: 'BODY', text: 'Hi {{1}}, your order {{2}} ships on {{3}}.' },
        { type: 'FOOTER', text: 'Reply STOP to opt out' },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' }, { type: 'QUICK_REPLY', text: 'Thanks' }] },
      ],
    },
    {
      id: '1000000000000002',
      name: 'otp_code',
      language: 'en_US',
      status: 'APPROVED',
      category: 'AUTHENTICATION',
      components: [{ type: 'BODY', text: '{{1}} is your verification code.' }],
    },
    {
      id: '1000000000000003',
      name: 'hello_world',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hello World' }],
    },
    {
      // The shared outbound sample (testdata/samples/outbound/valid/template.json) sends this one.
      id: '1000000000000005',
      name: 'order_shipped',
      language: 'tr',
      status: 'APPROVED',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Merhaba {{1}}, {{2}} numaralı siparişiniz yola çıktı.' }],
    },
    {
      id: '1000000000000004',
      name: 'spring_sale',
      language: 'en_US',
      status: 'PENDING',
      category: 'MARKETING',
      components: [{ type: 'BODY', text: 'Hi {{1}}, everything is {{2}} off until Sunday.' }],
    },
  ];
}

/** GET /v1/configs/templates as either API answers it. */
export function templatesAnswer(api: SimApi, templates: readonly SimTemplate[]): unknown {
  if (api === 'cloud') return { data: templates, paging: { cursors: { before: 'MAZDZD', after: 'MjQZD' } } };
  return {
    waba_templates: templates.map(({ id: _id, status, category, ...t }) => ({ ...t, namespace: 'c8ae5f90_307a_ca4c_b8f6_d1e2a2573574', status: status.toLowerCase(), category })),
  };
}

/** The control route's request: the changes CBOT reports with a `field` other than `messages`. */
export const AccountEventRequest = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('template_status'),
      template: z.string().default('spring_sale'),
      language: z.string().default('en_US'),
      event: z.enum(['APPROVED', 'REJECTED', 'PENDING', 'PAUSED', 'DISABLED', 'FLAGGED', 'PENDING_DELETION', 'REINSTATED']).default('APPROVED'),
      reason: z.string().default('NONE'),
      wait: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      kind: z.literal('template_quality'),
      template: z.string().default('order_update'),
      language: z.string().default('en_US'),
      previous: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).default('GREEN'),
      quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).default('YELLOW'),
      wait: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      kind: z.literal('phone_number_quality'),
      event: z.enum(['FLAGGED', 'UNFLAGGED', 'DOWNGRADE', 'UPGRADE', 'ONBOARDING']).default('FLAGGED'),
      limit: z.string().default('TIER_1K'),
      wait: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      kind: z.enum(['account_update', 'account_alerts', 'account_review_update']),
      value: z.record(z.string(), z.unknown()).optional(),
      wait: z.boolean().default(false),
    })
    .strict(),
]);
export type AccountEventRequest = z.input<typeof AccountEventRequest>;

const WABA_ID = '104857600000001';
const PHONE = '908501234567';

/**
 * The Cloud envelope of one account-level change (`field` and its `value`, as WhatsApp documents
 * them), and for a template status change the template's new status for the list. CBOT sends these
 * in the Cloud envelope whichever API the number speaks.
 */
export function accountEvent(req: z.output<typeof AccountEventRequest>, templates: readonly SimTemplate[], nowS: number): { payload: unknown; field: string } {
  const find = (name: string, language: string) => templates.find((t) => t.name === name && t.language === language);
  let field: string;
  let value: Record<string, unknown>;
  switch (req.kind) {
    case 'template_status':
      field = 'message_template_status_update';
      value = {
        event: req.event,
        message_template_id: Number(find(req.template, req.language)?.id ?? 0),
        message_template_name: req.template,
        message_template_language: req.language,
        reason: req.reason,
      };
      break;
    case 'template_quality':
      field = 'message_template_quality_update';
      value = {
        previous_quality_score: req.previous,
        new_quality_score: req.quality,
        message_template_id: Number(find(req.template, req.language)?.id ?? 0),
        message_template_name: req.template,
        message_template_language: req.language,
      };
      break;
    case 'phone_number_quality':
      field = 'phone_number_quality_update';
      value = { display_phone_number: PHONE, event: req.event, current_limit: req.limit };
      break;
    default:
      field = req.kind;
      value = req.value ?? defaultAccountValue(req.kind);
  }
  return { field, payload: { object: 'whatsapp_business_account', entry: [{ id: WABA_ID, time: nowS, changes: [{ value, field }] }] } };
}

function defaultAccountValue(kind: 'account_update' | 'account_alerts' | 'account_review_update'): Record<string, unknown> {
  if (kind === 'account_update') return { phone_number: PHONE, event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'SCAM' } };
  if (kind === 'account_alerts') return { entity_type: 'WABA', entity_id: WABA_ID, alert_severity: 'WARNING', alert_status: 'ACTIVE', alert_type: 'INCREASED_CAPABILITIES_ELIGIBILITY' };
  return { decision: 'APPROVED' };
}

/** Template statuses a template_status event leaves the template in (others leave it as it was). */
export const STATUS_AFTER_EVENT: Record<string, SimTemplate['status'] | undefined> = {
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
  PENDING: 'PENDING',
  PAUSED: 'PAUSED',
  DISABLED: 'DISABLED',
  REINSTATED: 'APPROVED',
};
