export type SimStatus = 'sent' | 'delivered' | 'read';

export interface StatusPayloadInput {
  wamid: string;
  recipientId: string;
  status: SimStatus;
  /** Unix seconds. */
  timestamp: number;
  conversationId: string;
  /** Unix seconds when the conversation window closes (sent only). */
  expiresAt: number;
  category: string;
  /** Cloud's pricing object (`pricing_model` PMP with `type`) instead of On-Premises' (CBP, no type). */
  cloud?: boolean;
}

/**
 * A status callback like samples/inbound/t12…t14: conversation and pricing on sent and delivered.
 * On-Premises: `pricing: {billable, pricing_model: "CBP", category}`; Cloud: `pricing: {billable,
 * pricing_model: "PMP", category, type}` (a service reply is free customer service).
 */
export function statusPayload(input: StatusPayloadInput): { statuses: Array<Record<string, unknown>> } {
  const status: Record<string, unknown> = {
    id: input.wamid,
    recipient_id: input.recipientId,
    status: input.status,
    timestamp: String(input.timestamp),
  };
  if (input.status !== 'read') {
    status.conversation = {
      id: input.conversationId,
      ...(input.status === 'sent' ? { expiration_timestamp: input.expiresAt } : {}),
      origin: { type: input.category },
    };
    const free = input.category === 'service';
    status.pricing = input.cloud
      ? { billable: !free, pricing_model: 'PMP', category: input.category, type: free ? 'free_customer_service' : 'regular' }
      : { billable: true, pricing_model: 'CBP', category: input.category };
  }
  return { statuses: [status] };
}

/** A callback value (statuses, messages…) in the Cloud API envelope, as CBOT's Cloud API posts it. */
export function cloudEnvelope(value: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '104857600000001',
      changes: [{
        value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '908501234567', phone_number_id: '110000000000001' }, ...value },
        field: 'messages',
      }],
    }],
  };
}

/** Template messages open a business-initiated conversation; anything else is a service reply. */
export function conversationCategory(messageType: string): string {
  return messageType === 'template' ? 'utility' : 'service';
}
