export { backoffMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { dispatchMessage } from './dispatch-message.js';
export type { DispatchDeps, DispatchPolicy, DispatchResult } from './dispatch-message.js';
export { LaneWorkers } from './lane-workers.js';
export type { LaneWorkersOptions } from './lane-workers.js';
export { OrphanSweeper } from './orphan-sweeper.js';
export type { OrphanSweeperOptions } from './orphan-sweeper.js';
