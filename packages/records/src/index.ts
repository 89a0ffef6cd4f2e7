export { fingerprint } from './fingerprint.js';
export { Attempt, MessageRecord, recordFromHash } from './message-record.js';
export { MessageStore } from './message-store.js';
export type { AcceptInput, AcceptResult, BeginResult, FinishOutcome, MessageStoreOptions, ReplayResult } from './message-store.js';
export { SendGate } from './send-gate.js';
export type { GateAnswer } from './send-gate.js';
