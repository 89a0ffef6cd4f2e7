import { request } from 'node:http';
import type { Redis } from 'ioredis';
import { cpuMeter } from './cpu.js';
import { closedLoop } from './load.js';
import { textMessage } from './payloads.js';

/** One way of accepting messages, measured: messages accepted per second and CPU per message. */
export interface CampaignRun {
  how: string;
  messages: number;
  seconds: number;
  msgsPerS: number;
  /** µs of CPU per accepted message. */
  cpuUsPerMessage: { ingress: number; redis: number };
  refused: number;
}

export interface CampaignResult {
  runs: CampaignRun[];
  /** best of batch/stream ÷ single sends. */
  ratio: number;
  /** The big stream: its accept time, Redis memory growth, and the 1 M extrapolation when smaller. */
  big: { messages: number; seconds: number; usedMemoryBytes: number; bytesPerMessage: number; extrapolated1MSeconds: number };
}

/**
 * Streams `count` lines on one connection (the body written as fast as the socket takes it, the
 * answer read as it comes); resolves with the 202s and the rest.
 */
export function streamOnce(o: { url: string; apiKey: string; count: number; from: number; tag: string }): Promise<{ ok: number; refused: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${o.url}/v1/messages/stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/x-ndjson' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        return;
      }
      let ok = 0;
      let refused = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (tail + chunk).split('\n');
        tail = lines.pop() ?? '';
        for (const l of lines) {
          if (l.includes('"status":202')) ok++;
          else refused++;
        }
      });
      res.on('end', () => resolve({ ok, refused }));
      res.on('error', reject);
    });
    let i = 0;
    const pump = () => {
      while (i < o.count) {
        const lines: string[] = [];
        for (let k = 0; k < 500 && i < o.count; k++, i++) lines.push(textMessage(o.from + i, `${o.tag}-${i}`));
        if (!req.write(`${lines.join('\n')}\n`)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? 0);
}

/**
 * Single sends vs batches (100 a request) vs the NDJSON stream on one ingress, same run, then one
 * big stream for the campaign figure (accept time, Redis memory). No dispatcher runs: the messages
 * stay queued.
 */
export async function measureCampaign(o: {
  ingressUrl: string;
  ingressPid: number;
  redisPid: number;
  redis: Redis;
  apiKey: string;
  connections: number;
  durationS: number;
  bigMessages: number;
  log: (line: string) => void;
}): Promise<CampaignResult> {
  const auth = { authorization: `Bearer ${o.apiKey}` };
  const runs: CampaignRun[] = [];
  const meter = () => cpuMeter({ ingress: o.ingressPid, redis: o.redisPid });
  const record = (how: string, messages: number, seconds: number, cpu: Record<string, number>, refused: number) => {
    const per = (ms: number | undefined) => ((ms ?? 0) * 1000) / Math.max(1, messages);
    const run = { how, messages, seconds, msgsPerS: messages / seconds, cpuUsPerMessage: { ingress: per(cpu.ingress), redis: per(cpu.redis) }, refused };
    runs.push(run);
    o.log(
      `  ${how.padEnd(34)} ${Math.round(run.msgsPerS)} msg/s (${messages} in ${seconds.toFixed(1)} s); CPU µs/msg ingress ${Math.round(run.cpuUsPerMessage.ingress)}, redis ${Math.round(run.cpuUsPerMessage.redis)}` +
        (refused ? `; refused ${refused}` : ''),
    );
  };

  // Single sends: closed loop, BENCH_CONNECTIONS connections.
  await closedLoop({ url: o.ingressUrl, path: '/v1/messages', headers: auth, body: (i) => textMessage(i, `C1-${i}`), connections: o.connections, durationS: 1 });
  let m = meter();
  const single = await closedLoop({ url: o.ingressUrl, path: '/v1/messages', headers: auth, body: (i) => textMessage(i, `C1-${i}`), connections: o.connections, durationS: o.durationS });
  record(`single sends, ${o.connections} connections`, single.ok, single.durationS, m(), single.non2xx + single.errors);

  // Batches of 100, 4 connections.
  const batch = (i: number) => `{"messages":[${Array.from({ length: 100 }, (_, k) => textMessage(i * 100 + k, `CB-${i}-${k}`)).join(',')}]}`;
  await closedLoop({ url: o.ingressUrl, path: '/v1/messages/batch', headers: auth, body: batch, connections: 4, durationS: 1 });
  m = meter();
  const b = await closedLoop({ url: o.ingressUrl, path: '/v1/messages/batch', headers: auth, body: batch, connections: 4, durationS: o.durationS });
  record('batch of 100, 4 connections', b.ok * 100, b.durationS, m(), b.non2xx + b.errors);

  // The stream: 1 connection, then 2.
  const perStream = 50_000;
  for (const conns of [1, 2]) {
    m = meter();
    const t0 = performance.now();
    const got = await Promise.all(Array.from({ length: conns }, (_, c) => streamOnce({ url: o.ingressUrl, apiKey: o.apiKey, count: perStream, from: c * perStream, tag: `CS${conns}-${c}` })));
    const s = (performance.now() - t0) / 1000;
    record(`stream, ${conns} connection${conns > 1 ? 's' : ''} × ${perStream}`, got.reduce((n, g) => n + g.ok, 0), s, m(), got.reduce((n, g) => n + g.refused, 0));
  }

  // The campaign: one big stream into an empty Redis.
  await o.redis.flushall();
  const memBefore = await usedMemory(o.redis);
  m = meter();
  const t0 = performance.now();
  const big = await streamOnce({ url: o.ingressUrl, apiKey: o.apiKey, count: o.bigMessages, from: 0, tag: 'BIG' });
  const seconds = (performance.now() - t0) / 1000;
  record(`one stream of ${o.bigMessages}`, big.ok, seconds, m(), big.refused);
  const usedMemoryBytes = (await usedMemory(o.redis)) - memBefore;
  const bytesPerMessage = usedMemoryBytes / Math.max(1, big.ok);
  const extrapolated1MSeconds = (seconds * 1_000_000) / Math.max(1, big.ok);
  o.log(
    `  Redis used_memory grew ${(usedMemoryBytes / 1024 / 1024).toFixed(1)} MiB for ${big.ok} messages (${Math.round(bytesPerMessage)} B/msg` +
      `${o.bigMessages < 1_000_000 ? `; 1 M: ~${((bytesPerMessage * 1_000_000) / 1024 / 1024).toFixed(0)} MiB, ~${extrapolated1MSeconds.toFixed(0)} s, extrapolated` : ''})`,
  );
  await o.redis.flushall();
  const single1 = runs[0]!.msgsPerS;
  const bestBulk = Math.max(...runs.slice(1).map((r) => r.msgsPerS));
  return { runs, ratio: bestBulk / single1, big: { messages: big.ok, seconds, usedMemoryBytes, bytesPerMessage, extrapolated1MSeconds } };
}
