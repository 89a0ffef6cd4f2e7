export { INBOUND_JOB_OPTIONS, InboundJob, QueueNames, queueNameFor } from './catalog.js';
export { DEFAULT_REDIS_URL, closeRedis, createRedis } from './redis.js';
export { ReplicaWait } from './replica-wait.js';
export type { RedisClient } from './redis.js';
export { BulkJobAdder } from './bulk-job-adder.js';
export { Coalescer, MAX_BATCH_CHARS } from './coalescer.js';
