import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

export interface Accepted {
  recipient: number;
  seq: number;
  text: string;
  relayId: string;
  acceptedAt: number;
}

export interface LoadOptions {
  /** The ingress base URL, e.g. http://127.0.0.1:4000 (stays the same across ingress restarts). */
  baseUrl: string;
  apiKey: string;
  recipients: number;
  /** Total messages per second over all recipients. */
  ratePerS: number;
  /** A message not accepted after this long of retrying is abandoned (the scenario then fails). */
  giveUpMs?: number;
}

/** The phone number of recipient `r` (digits only, unique per recipient). */
export const recipientNumber = (r: number): string => `9055510${String(r).padStart(5, '0')}`;

/**
 * The callers: each recipient sends its messages strictly one after another (the next only after
 * the previous got its 202), paced so all recipients together send `ratePerS`. Like a real client it
 * retries 503, 429 and connection failures with the same Idempotency-Key, so "accepted" means a 202
 * was received, and a recipient's acceptance order is the order of its 202s (= its seq order).
 */
export class LoadDriver {
  /** Per recipient, in acceptance order. */
  readonly accepted: Accepted[][];
  readonly retries = new Map<string, number>();
  /** Messages given up on after giveUpMs (never answered 202), and answers that are a client bug. */
  readonly abandoned: string[] = [];
  readonly rejected: string[] = [];
  readonly #agent = new Agent({ connect: { timeout: 2_000 }, keepAliveTimeout: 4_000, connections: 64 });
  readonly #opts: Required<LoadOptions>;
  #stopped = false;
  #loops: Promise<void>[] = [];

  constructor(opts: LoadOptions) {
    this.#opts = { giveUpMs: 120_000, ...opts };
    this.accepted = Array.from({ length: opts.recipients }, () => []);
  }

  get acceptedCount(): number {
    return this.accepted.reduce((n, a) => n + a.length, 0);
  }

  start(): void {
    const t0 = Date.now();
    const { recipients, ratePerS } = this.#opts;
    this.#loops = Array.from({ length: recipients }, (_, r) => this.#recipient(r, t0, (recipients * 1000) / ratePerS));
  }

  /** Stops starting new messages and waits for each recipient's message in flight to be settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    await this.#agent.close().catch(() => undefined);
  }

  async #recipient(r: number, t0: number, periodMs: number): Promise<void> {
    // Recipients are spread over the period so the total rate is steady rather than bursty.
    let due = t0 + (r * periodMs) / this.#opts.recipients;
    for (let seq = 0; !this.#stopped; seq++) {
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.#stopped) return;
      const text = `r${r}-${seq}`;
      const accepted = await this.#send(r, seq, text);
      if (!accepted) return; // abandoned or rejected: later messages of this recipient would prove nothing
      this.accepted[r]!.push(accepted);
      // Behind schedule (an outage of the ingress): catch up without a burst larger than one period.
      due = Math.max(due + periodMs, Date.now() - periodMs);
    }
  }

  async #send(recipient: number, seq: number, text: string): Promise<Accepted | undefined> {
    const body = JSON.stringify({ to: recipientNumber(recipient), type: 'text', text: { body: text } });
    const headers = {
      authorization: `Bearer ${this.#opts.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `faults-${text}`,
    };
    const giveUpAt = Date.now() + this.#opts.giveUpMs;
    for (;;) {
      let waitMs = 200;
      try {
        const res = await request(`${this.#opts.baseUrl}/v1/messages`, {
          method: 'POST', headers, body, dispatcher: this.#agent, headersTimeout: 10_000, bodyTimeout: 10_000,
        });
        const answer = await res.body.text();
        if (res.statusCode === 202) {
          return { recipient, seq, text, relayId: (JSON.parse(answer) as { id: string }).id, acceptedAt: Date.now() };
        }
        this.#count(String(res.statusCode));
        if (res.statusCode !== 503 && res.statusCode !== 429) {
          this.rejected.push(`${text}: HTTP ${res.statusCode} ${answer.slice(0, 200)}`);
          return undefined;
        }
        const retryAfterS = Number(res.headers['retry-after']);
        if (Number.isFinite(retryAfterS) && retryAfterS > 0) waitMs = Math.min(retryAfterS * 1000, 5_000);
      } catch (err) {
        // Connection refused/reset or no answer in time: maybe accepted, maybe not; the key makes a retry safe.
        this.#count((err as { code?: string }).code ?? 'network');
      }
      if (Date.now() + waitMs > giveUpAt) {
        this.abandoned.push(text);
        return undefined;
      }
      await sleep(waitMs);
    }
  }

  #count(what: string): void {
    this.retries.set(what, (this.retries.get(what) ?? 0) + 1);
  }
}
