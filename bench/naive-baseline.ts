import type { Server } from 'node:http';
import { Queue } from 'bullmq';
import express from 'express';

/**
 * The naive baseline the issue asks for: plain express + express.json() + one queue.add per request,
 * no auth, no validation, no record. Runs as its own process, like the relay's ingress, against the
 * same Redis, so the ratio compares two servers under the same load generator and machine.
 */
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:1');
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port) };
const outbound = new Queue('naive-out', { connection, prefix: 'naive' });
const inbound = new Queue('naive-in', { connection, prefix: 'naive' });

const app = express();
app.use(express.json());
app.post('/v1/messages', async (req, res) => {
  const job = await outbound.add('m', req.body as object);
  res.status(202).json({ id: job.id, status: 'queued' });
});
app.post('/webhooks/cbot', async (req, res) => {
  await inbound.add('cb', req.body as object);
  res.status(200).json({ status: 'ok' });
});

const server: Server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  // The same readiness line shape RelayProcess waits for from the relay (a pino-like JSON line).
  process.stdout.write(`${JSON.stringify({ level: 30, msg: 'naive baseline listening' })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void Promise.allSettled([outbound.close(), inbound.close()]).then(() => process.exit(0));
});
