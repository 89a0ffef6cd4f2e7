export { fingerprint } from './fingerprint.js';
export { Attempt, MessageRecord, recordFromHash } from './message-record.js';
export { MessageStore } from './message-store.js';
export type { MessageStoreOptions } from './message-store.js';
export { DEFAULT_CHANNEL, Outbound, PRIORITIES, channelKeyBase } from './outbound.js';
export type { AcceptInput, AcceptResult, Claim, ClaimPolicy, ClaimState, Lease, OutboundOptions, Priority, ReplayResult } from './outbound.js';
