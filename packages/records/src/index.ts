export { fingerprint } from './fingerprint.js';
export { LIST_MAX_SCAN, decodeCursor, encodeCursor } from './message-list.js';
export type { ListCursor, ListPage, ListQuery } from './message-list.js';
export { Attempt, HistoryEntry, MessageRecord, recordFromHash } from './message-record.js';
export { MessageStore } from './message-store.js';
export type { MessageStoreOptions } from './message-store.js';
export { DEFAULT_CHANNEL, Outbound, PRIORITIES, channelKeyBase } from './outbound.js';
export type { AcceptInput, AcceptResult, Claim, ClaimPolicy, ClaimState, Lease, OutboundOptions, Priority, ReplayResult } from './outbound.js';
export { PreviousSecret, SUBSCRIBER_NAME, SubscriberRecord, generateSecret, rotateSecret, signingSecrets, wantsChannel } from './subscriber-record.js';
export type { HttpSubscriberRecord } from './subscriber-record.js';
export { SubscriberStore } from './subscriber-store.js';
export type { SeedResult, SubscriberSnapshot, SubscriberStoreOptions } from './subscriber-store.js';
export {
  CreateSubscriberRequest,
  MAX_OVERLAP_S,
  PatchSubscriberRequest,
  RotateSecretRequest,
  SECRET_MAX_BYTES,
  SECRET_MIN_BYTES,
  WebhookSecret,
} from './subscriber-request.js';
