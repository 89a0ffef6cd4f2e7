export { freePort } from './free-port.js';
export { uniquePrefix, waitFor } from './helpers.js';
export { LocalRedis } from './local-redis.js';
export type { LocalRedisOptions } from './local-redis.js';
export { startTestRedis } from './redis-fixture.js';
export type { TestRedis } from './redis-fixture.js';
export { REPO_ROOT, RelayProcess } from './relay-process.js';
export type { RelayProcessOptions } from './relay-process.js';
export { LocalRedisCluster } from './local-redis-cluster.js';
