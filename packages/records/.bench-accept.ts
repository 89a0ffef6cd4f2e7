// Accept cost: Redis command time per accept (INFO commandstats) and wall time, sequential batches.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startTestRedis } from '@cbot-relay/testing';

const which = process.argv[2] ?? 'after';
const mod = which === 'before' ? await import('./.before/index.js') : await import('./src/index.js');
const server = await startTestRedis();
const redis = new Redis(server.url);
const out = new mod.Outbound({ redis, prefix: 'bench', recordTtlS: 3600 });
const N = Number(process.argv[3] ?? 20000);
const CONC = 64;
const body = JSON.stringify({ to: '905550000000', type: 'text', text: { body: 'x'.repeat(200) } });
const usec = async () => [...(await redis.info('commandstats')).matchAll(/usec=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
if (which === 'after') {
  // Half the recipients have written to the number (an open window).
  const rcp = new mod.Recipients({ redis, prefix: 'bench' });
  for (let i = 0; i < 5000; i += 2) await rcp.inbound('default', `9055500${String(i).padStart(5, '0')}`, Math.floor(Date.now() / 1000), Date.now());
}
let next = 0;
const worker = async () => {
  while (next < N) {
    const i = next++;
    const to = `9055500${String(i % 5000).padStart(5, '0')}`;
    const r = await out.accept({ id: `msg_${Date.now().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`, to, type: 'text', caller: 'crm', priority: 'normal', body, nowMs: Date.now() });
    if (r.kind !== 'created') throw new Error(r.kind);
  }
};
// Warm-up
next = N - 2000;
await Promise.all(Array.from({ length: CONC }, worker));
await redis.config('RESETSTAT');
next = 0;
const t0 = performance.now();
const u0 = await usec();
await Promise.all(Array.from({ length: CONC }, worker));
const wall = performance.now() - t0;
const u1 = await usec();
const stats = await redis.info('commandstats');
const calls = [...stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)].filter((m) => !['evalsha', 'eval', 'info', 'config|resetstat'].includes(m[1]!));
const inner = calls.reduce((n, m) => n + Number(m[2]), 0);
const byCmd = Object.fromEntries(calls.map((m) => [m[1], +(Number(m[2]) / N).toFixed(2)]));
console.log(JSON.stringify({ which, n: N, redisUsPerAccept: +((u1 - u0) / N).toFixed(2), wallUsPerAccept: +((wall * 1000) / N).toFixed(2), perSec: Math.round(N / (wall / 1000)), commandsPerAccept: +(inner / N).toFixed(2), byCmd }));
redis.disconnect();
await server.close();
