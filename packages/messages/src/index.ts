export { CbotInboundMessage, CbotStatus, eventsFromCallback } from './callback.js';
export { CbotError, CbotSendSuccess, extractCbotErrors } from './cbot-response.js';
export { RELAY_EVENT_TYPES, RelayEvent, RelayEventType } from './event.js';
export type { FieldIssue } from './field-issue.js';
export { MessageStatus, STATUS_RANK, isMessageStatus } from './message-status.js';
export { INTERACTIVE_TYPES } from './outbound-interactive.js';
export { normalizeRecipient } from './recipient.js';
export { OUTBOUND_TYPES, OutboundMessage, validateOutboundMessage } from './outbound.js';
export type { OutboundType, OutboundValidation } from './outbound.js';
