export { fingerprint } from './fingerprint.js';
export { LIST_MAX_SCAN, decodeCursor, encodeCursor } from './message-list.js';
export type { ListCursor, ListPage, ListQuery } from './message-list.js';
export { Attempt, HistoryEntry, MessageRecord, recordFromHash } from './message-record.js';
export { MessageStore } from './message-store.js';
export type { MessageStoreOptions } from './message-store.js';
export { Outbound, PRIORITIES } from './outbound.js';
export type { AcceptInput, AcceptResult, Claim, ClaimPolicy, ClaimState, Lease, OutboundOptions, Priority, ReplayResult } from './outbound.js';
