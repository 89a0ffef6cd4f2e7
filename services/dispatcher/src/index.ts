export { backoffMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { sendLeased } from './dispatch-message.js';
export type { DispatchDeps, DispatchPolicy, WriteOptions } from './dispatch-message.js';
export { Dispatcher } from './dispatcher.js';
export type { DispatchChannel, DispatcherOptions } from './dispatcher.js';
export { adoptLanes } from './adopt-lanes.js';
export { callbacksAppliedUpTo } from './callbacks-watermark.js';
export type { AdoptLanesOptions } from './adopt-lanes.js';
