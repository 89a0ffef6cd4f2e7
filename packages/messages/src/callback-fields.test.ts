import { describe, expect, it } from 'vitest';
import { FIELD_EVENT_TYPES, eventsFromCallback } from './callback.js';
import { RelayEvent } from './event.js';

const receivedAt = new Date('2024-06-01T10:00:00.000Z');
const envelope = (field: string, value: unknown, time = 1717236000) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: 'WABA1', time, changes: [{ field, value }] }],
});
const eventsOf = (payload: unknown) => eventsFromCallback(payload, receivedAt, JSON.stringify(payload));

const VALUES: Record<string, unknown> = {
  message_template_status_update: { event: 'APPROVED', message_template_id: 12, message_template_name: 'order_update', message_template_language: 'en_US', reason: 'NONE' },
  message_template_quality_update: { previous_quality_score: 'GREEN', new_quality_score: 'YELLOW', message_template_id: 12, message_template_name: 'order_update', message_template_language: 'en_US' },
  phone_number_quality_update: { display_phone_number: '15550001111', event: 'FLAGGED', current_limit: 'TIER_10K' },
  account_update: { phone_number: '15550001111', event: 'VERIFIED_ACCOUNT' },
  account_alerts: { entity_type: 'WABA', entity_id: 'WABA1', alert_severity: 'WARNING', alert_status: 'ACTIVE', alert_type: 'OBA_APPROVED' },
  account_review_update: { decision: 'APPROVED' },
};

describe('Cloud changes whose field is not messages', () => {
  it.each(Object.entries(FIELD_EVENT_TYPES))('%s becomes %s with data unchanged and the field', (field, type) => {
    const value = VALUES[field];
    const [event, ...rest] = eventsOf(envelope(field, value));
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type, field, data: value, occurredAt: new Date(1717236000 * 1000).toISOString() });
    expect(RelayEvent.parse(event)).toEqual(event);
  });

  it('every typed field of the contract is mapped', () => {
    expect(FIELD_EVENT_TYPES).toEqual({
      message_template_status_update: 'template.status',
      message_template_quality_update: 'template.quality',
      phone_number_quality_update: 'phone_number.quality',
      account_update: 'account.update',
      account_alerts: 'account.update',
      account_review_update: 'account.update',
    });
  });

  it('a redelivered callback has the same ids; another update has another', () => {
    const a = eventsOf(envelope('message_template_status_update', VALUES.message_template_status_update));
    const again = eventsOf(JSON.parse(JSON.stringify(envelope('message_template_status_update', VALUES.message_template_status_update))));
    const other = eventsOf(envelope('message_template_status_update', { ...(VALUES.message_template_status_update as object), event: 'PAUSED' }));
    const later = eventsOf(envelope('message_template_status_update', VALUES.message_template_status_update, 1717236999));
    expect(again.map((e) => e.id)).toEqual(a.map((e) => e.id));
    expect(other[0]!.id).not.toBe(a[0]!.id);
    expect(later[0]!.id).not.toBe(a[0]!.id);
  });

  it('a messages change beside a typed one still yields its messages; unknown fields stay unrecognized', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA1',
          changes: [
            { field: 'messages', value: { messaging_product: 'whatsapp', statuses: [{ id: 'wamid.1', status: 'sent', timestamp: '1717236000' }] } },
            { field: 'phone_number_quality_update', value: VALUES.phone_number_quality_update },
            { field: 'flows', value: { event: 'FLOW_STATUS_CHANGE' } },
            { field: 'constructor', value: { x: 1 } },
          ],
        },
      ],
    };
    expect(eventsOf(payload).map((e) => e.type)).toEqual(['message.status', 'phone_number.quality', 'unrecognized', 'unrecognized']);
  });
});
