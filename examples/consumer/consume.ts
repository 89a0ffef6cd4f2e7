// Consumes one queue subscription of cbot-relay and prints each event's id and type as a JSON line.
//
//   REDIS_URL=redis://127.0.0.1:6379 QUEUE_PREFIX=cbot-relay SUBSCRIBER=default \
//     node --conditions=@cbot-relay/source --import tsx examples/consumer/consume.ts
//
// SUBSCRIBER is a `kind: "queue"` subscriber from SUBSCRIPTIONS_FILE (`default` when the relay runs
// without one). Stop it with Ctrl-C or SIGTERM: it finishes the event in hand, then exits.
import { createConsumer } from '@cbot-relay/consumer';

const consumer = createConsumer({
  subscriber: process.env.SUBSCRIBER ?? 'default',
  connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  prefix: process.env.QUEUE_PREFIX ?? 'cbot-relay',
  handler: async (event, ctx) => {
    // Ids and types only: message bodies stay out of logs.
    process.stdout.write(`${JSON.stringify({ id: event.id, type: event.type, attempt: ctx.attempt, relayMessageId: event.relayMessageId })}\n`);
  },
  onError: (err, info) => {
    process.stderr.write(`${JSON.stringify({ error: err.message, ...info })}\n`);
  },
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void consumer.close().then(() => process.exit(0));
  });
}
