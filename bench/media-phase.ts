import { readFileSync } from 'node:fs';
import { request } from 'node:http';

/** One 100 MiB document (WhatsApp's document limit) up and down, through the relay and straight to the simulator. */
export const MEDIA_BYTES = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x25);

export interface MediaTransfer {
  /** MB/s (10^6 bytes) of the better of the rounds. */
  relayMBps: number;
  directMBps: number;
  /** relay ÷ direct. */
  ratio: number;
}

export interface MediaResult {
  bytes: number;
  upload: MediaTransfer;
  download: MediaTransfer;
  /** The ingress's resident set before the phase (median of samples over ~1 s) and at its highest during relay transfers. */
  ingressIdleRssBytes: number;
  ingressPeakRssBytes: number;
  ingressRssOverIdleBytes: number;
  /** The ingress's CPU (user + system) per MB relayed, both directions: a figure other work on the machine moves less than throughput. */
  ingressCpuMsPerMB: number;
}

export interface MediaPhaseOptions {
  ingressUrl: string;
  ingressPid: number;
  apiKey: string;
  simUrl: string;
  simKey: string;
  rounds: number;
  log: (line: string) => void;
}

/** utime + stime of a process, ms (the kernel's 100 Hz ticks). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** POSTs `bytes` with Content-Length, written with backpressure; resolves with the answer's JSON and the seconds taken. */
function upload(url: string, auth: string, bytes: number): Promise<{ s: number; json: any }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/pdf', 'content-length': bytes } });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if (res.statusCode !== 201) return reject(new Error(`upload to ${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
        resolve({ s: Number(process.hrtime.bigint() - started) / 1e9, json: JSON.parse(text) });
      });
    });
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GETs and discards the body; resolves with the seconds taken and the bytes read. */
function download(url: string, auth: string): Promise<{ s: number; bytes: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: auth } });
    req.on('error', reject);
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`download ${url}: HTTP ${res.statusCode}`));
        resolve({ s: Number(process.hrtime.bigint() - started) / 1e9, bytes });
      });
    });
    req.end();
  });
}

/**
 * Relay and direct transfers alternate (`rounds` each), so other work on the machine hits both alike;
 * the best round of each is compared. The ingress's VmRSS is sampled every 20 ms during relay transfers.
 */
export async function measureMedia(o: MediaPhaseOptions): Promise<MediaResult> {
  const idleSamples: number[] = [];
  for (let i = 0; i < 20; i++) {
    idleSamples.push(rssBytes(o.ingressPid));
    await new Promise((r) => setTimeout(r, 50));
  }
  const idle = idleSamples.sort((a, b) => a - b)[Math.floor(idleSamples.length / 2)]!;
  let peak = idle;
  let cpu = 0;
  let relayed = 0;
  const watch = async <T>(work: Promise<T>): Promise<T> => {
    const cpuBefore = cpuMs(o.ingressPid);
    const timer = setInterval(() => (peak = Math.max(peak, rssBytes(o.ingressPid))), 20);
    try {
      return await work;
    } finally {
      clearInterval(timer);
      peak = Math.max(peak, rssBytes(o.ingressPid));
      cpu += cpuMs(o.ingressPid) - cpuBefore;
      relayed += MEDIA_BYTES;
    }
  };
  const relayAuth = `Bearer ${o.apiKey}`;
  const simAuth = `Bearer ${o.simKey}`;
  const best = { upRelay: Infinity, upDirect: Infinity, downRelay: Infinity, downDirect: Infinity };
  for (let round = 0; round < o.rounds; round++) {
    const direct = await upload(`${o.simUrl}v1/media`, simAuth, MEDIA_BYTES);
    best.upDirect = Math.min(best.upDirect, direct.s);
    const relayed = await watch(upload(`${o.ingressUrl}/v1/media`, relayAuth, MEDIA_BYTES));
    best.upRelay = Math.min(best.upRelay, relayed.s);
    const id = relayed.json.id as string;
    const d = await download(`${o.simUrl}v1/media/${id}`, simAuth);
    best.downDirect = Math.min(best.downDirect, d.s);
    const r = await watch(download(`${o.ingressUrl}/v1/media/${id}`, relayAuth));
    if (r.bytes !== MEDIA_BYTES || d.bytes !== MEDIA_BYTES) throw new Error(`download: ${r.bytes} / ${d.bytes} bytes, expected ${MEDIA_BYTES}`);
    best.downRelay = Math.min(best.downRelay, r.s);
    o.log(`  round ${round + 1}: upload direct ${direct.s.toFixed(2)} s, relay ${relayed.s.toFixed(2)} s; download direct ${d.s.toFixed(2)} s, relay ${r.s.toFixed(2)} s`);
  }
  const mbps = (s: number) => MEDIA_BYTES / 1e6 / s;
  const transfer = (relayS: number, directS: number): MediaTransfer => ({ relayMBps: mbps(relayS), directMBps: mbps(directS), ratio: directS / relayS });
  const result: MediaResult = {
    bytes: MEDIA_BYTES,
    upload: transfer(best.upRelay, best.upDirect),
    download: transfer(best.downRelay, best.downDirect),
    ingressIdleRssBytes: idle,
    ingressPeakRssBytes: peak,
    ingressRssOverIdleBytes: peak - idle,
    ingressCpuMsPerMB: cpu / (relayed / 1e6),
  };
  const MB = 1024 * 1024;
  o.log(
    `  upload ${result.upload.relayMBps.toFixed(0)} vs ${result.upload.directMBps.toFixed(0)} MB/s (${(result.upload.ratio * 100).toFixed(0)} %), ` +
      `download ${result.download.relayMBps.toFixed(0)} vs ${result.download.directMBps.toFixed(0)} MB/s (${(result.download.ratio * 100).toFixed(0)} %); ` +
      `ingress CPU ${result.ingressCpuMsPerMB.toFixed(1)} ms per MB; ingress RSS ${(idle / MB).toFixed(1)} MiB idle, ${(peak / MB).toFixed(1)} MiB peak (+${((peak - idle) / MB).toFixed(1)} MiB)`,
  );
  return result;
}
