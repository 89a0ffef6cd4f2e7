export { INBOUND_JOB_OPTIONS, InboundJob, OutboundJob, QueueNames, queueNameFor } from './catalog.js';
export { laneFor } from './lanes.js';
export { DEFAULT_REDIS_URL, closeRedis, createRedis } from './redis.js';
export type { RedisClient, RedisSettings } from './redis.js';
export { OutboundLanes } from './outbound-lanes.js';
export type { OutboundLanesOptions } from './outbound-lanes.js';
export { LaneCountMismatchError, assertLaneCount } from './lane-count-guard.js';
export { ADD_STANDARD_JOB_LUA, standardJobCall } from './standard-job-call.js';
export type { StandardJobCall } from './standard-job-call.js';
