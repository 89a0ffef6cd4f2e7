import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

// 5 s: CBOT retries callbacks meanwhile and callers see 503s; FAULTS_REDIS_DOWN_MS=20000 also outlasts the
// dispatchers' job locks (15 s), which holds too.
const DOWN_MS = Number(process.env.FAULTS_REDIS_DOWN_MS ?? 5_000);

/**
 * kill -9 the Redis under load, keep it down 5 s, start it again on the same port from its AOF. What
 * was answered 202 (or 200 to CBOT) before the crash must survive; the relay's processes reconnect by
 * themselves; callers get 503 meanwhile and retry with their Idempotency-Key.
 */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  fault: `Redis kill -9, ${DOWN_MS / 1000} s down, restart from AOF`,
  // CBOT answers after 40 ms so sends are on the wire when Redis dies.
  knobs: { latencyMs: 40 },
  ratePerS: 50,
  recipients: 40,
  inboundPerS: 5,
  drainTimeoutMs: 90_000,
  async inject(ctx) {
    const { cluster } = ctx;
    await sleep(8_000);
    const before = ctx.load.acceptedCount;
    await cluster.redis.kill();
    ctx.log(`redis killed (SIGKILL) after ${before} accepted`);
    await sleep(DOWN_MS);
    await cluster.redis.restart();
    ctx.log('redis restarted from its AOF');
    await sleep(12_000);
  },
};
