import http from 'node:http';
import https from 'node:https';
import { Slots } from './slots.js';

// Requests in flight at once; the rest wait as cheap promises rather than as queued ClientRequests.
const maxConcurrent = 64;

/** POSTs JSON over keep-alive connections; one attempt per call, no retries. */
export class JsonPoster {
  readonly #httpAgent = new http.Agent({ keepAlive: true, maxSockets: maxConcurrent });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, maxSockets: maxConcurrent });
  readonly #slots = new Slots(maxConcurrent);
  readonly #inFlight = new Set<http.ClientRequest>();
  #closed = false;

  /**
   * Resolves with the HTTP status; rejects on network errors, after `timeoutMs`, once closed, and
   * when `wanted()` turns false while waiting for a free connection.
   */
  async post(
    url: URL,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    wanted: () => boolean = () => true,
  ): Promise<number> {
    if (this.#closed || !(await this.#slots.acquire())) throw new Error('simulator closed');
    if (!wanted()) {
      this.#slots.release();
      throw new Error('callback cancelled');
    }
    try {
      return await this.#post(url, body, headers, timeoutMs);
    } finally {
      this.#slots.release();
    }
  }

  #post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? https : http).request(url, {
        method: 'POST',
        agent: isHttps ? this.#httpsAgent : this.#httpAgent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      this.#inFlight.add(req);
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#inFlight.delete(req);
      };
      req.on('response', (res) => {
        res.on('error', () => undefined);
        res.on('close', () => {
          done();
          if (!res.complete) reject(new Error('response aborted'));
        });
        res.on('end', () => {
          done();
          resolve(res.statusCode ?? 0);
        });
        res.resume();
      });
      req.on('error', (err) => {
        done();
        reject(err);
      });
      req.end(body);
    });
  }

  /** Aborts requests in flight and closes idle sockets. */
  close(): void {
    this.#closed = true;
    this.#slots.close();
    for (const req of this.#inFlight) req.destroy(new Error('simulator closed'));
    this.#inFlight.clear();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
