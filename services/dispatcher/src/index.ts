export { backoffMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { sendLeased } from './dispatch-message.js';
export { sendReceipt } from './dispatch-receipt.js';
export type { DispatchDeps, DispatchPolicy, WriteOptions } from './dispatch-message.js';
export { Dispatcher } from './dispatcher.js';
export type { DispatchChannel, DispatcherOptions } from './dispatcher.js';
export { callbacksAppliedUpTo } from './callbacks-watermark.js';
