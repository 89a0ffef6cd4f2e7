import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface UploadAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

export interface UploadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string | number>;
  /** Parts of the body, written in order with backpressure; numbers are that many zero bytes (64 KiB at a time). */
  parts?: (Buffer | string | number)[];
  /** Called before each part after the first; the next part waits for it. */
  between?: (index: number) => Promise<void>;
}

const ZEROS = Buffer.alloc(64 * 1024);

/**
 * Test-only: an HTTP request whose body is written piece by piece (never whole: a 100 MB body costs
 * 64 KiB), answered as soon as the server answers, even if that is before the body was all sent.
 */
export function httpUpload(opts: UploadOptions): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(opts.url, { method: opts.method ?? 'POST', headers: opts.headers ?? {} });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    void (async () => {
      const parts = opts.parts ?? [];
      for (let i = 0; i < parts.length; i++) {
        if (answered || req.destroyed) return;
        if (i > 0 && opts.between) await opts.between(i);
        const part = parts[i]!;
        if (typeof part !== 'number') {
          if (!req.write(part)) await drained(req);
          continue;
        }
        for (let left = part; left > 0 && !answered && !req.destroyed; left -= ZEROS.length) {
          if (!req.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left))) await drained(req);
        }
      }
      if (!req.destroyed) req.end();
    })().catch(() => undefined);
  });
}

function drained(req: ReturnType<typeof request>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.once('drain', done);
    req.once('close', done);
  });
}

/** The multipart/form-data framing around one file part (and optional fields), for tests. */
export function multipart(file: { type: string; filename?: string } | undefined, fields: Record<string, string> = {}, boundary = 'test-boundary-7MA4YWxkTrZu0gW'): { contentType: string; head: string; tail: string } {
  let head = '';
  for (const [k, v] of Object.entries(fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  if (file) head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename ?? 'f.bin'}"\r\nContent-Type: ${file.type}\r\n\r\n`;
  return { contentType: `multipart/form-data; boundary=${boundary}`, head, tail: `${file ? '\r\n' : ''}--${boundary}--\r\n` };
}
