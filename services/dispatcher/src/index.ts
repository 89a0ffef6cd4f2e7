export { backoffMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { sendLeased } from './dispatch-message.js';
export type { DispatchDeps, DispatchPolicy } from './dispatch-message.js';
export { Dispatcher } from './dispatcher.js';
export type { DispatchChannel, DispatcherOptions } from './dispatcher.js';
