import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

const HANG_MS = 60_000;
/** Queue-subscriber lag above this while the HTTP subscriber hangs means one subscriber delayed another. */
const MAX_QUEUE_LAG_MS = 10_000;

/**
 * The HTTP subscriber takes requests and never answers for a minute (the relay times each push out
 * after PUSH_TIMEOUT_MS and backs off). Afterwards every event must reach it, and meanwhile the queue
 * subscriber must keep getting its events on time (a broken subscriber never delays another).
 */
export const subscriberTimeout: Scenario = {
  name: 'http-subscriber-timeout',
  fault: `HTTP subscriber hangs (no answer) for ${HANG_MS / 1000} s`,
  ratePerS: 30,
  recipients: 30,
  inboundPerS: 5,
  // Pushes that failed ~6 times during the minute wait up to 32 s (relay push backoff) before the next try.
  drainTimeoutMs: 120_000,
  async inject(ctx) {
    const { receiver, subscriber } = ctx.cluster;
    await sleep(3_000);
    receiver.hang();
    const from = Date.now();
    ctx.log('HTTP subscriber stops answering');
    await sleep(HANG_MS);
    receiver.recover();
    const to = Date.now();
    ctx.log(`HTTP subscriber answers again (${receiver.timedOut} pushes timed out meanwhile)`);
    const during = subscriber.lags.filter(([at]) => at >= from && at <= to).map(([, lag]) => lag).sort((a, b) => a - b);
    const p99 = during[Math.floor(during.length * 0.99)] ?? Infinity;
    ctx.note(`queue subscriber during the hang: ${during.length} events, p99 lag ${p99} ms, max ${during.at(-1) ?? '-'} ms`);
    if (during.length === 0 || p99 > MAX_QUEUE_LAG_MS) ctx.fail(`queue subscriber delayed by the hanging HTTP subscriber (p99 lag ${p99} ms)`);
    await sleep(3_000);
  },
};
