import { setTimeout as sleep } from 'node:timers/promises';
import type { CbotSim } from '@cbot-relay/cbot-sim';

/**
 * Customers writing in: the simulator delivers one unique inbound text message at a time, at a steady
 * rate, to the relay's webhook (and retries it like CBOT until it gets a 200). What it sent is read
 * back from the simulator's callback log when counting.
 */
export class InboundDriver {
  sent = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly sim: CbotSim,
    private readonly ratePerS: number,
  ) {}

  start(): void {
    const t0 = Date.now();
    const periodMs = 1000 / this.ratePerS;
    this.#loop = (async () => {
      for (let n = 0; !this.#stopped; n++) {
        const wait = t0 + n * periodMs - Date.now();
        if (wait > 0) await sleep(wait);
        if (this.#stopped) return;
        await this.sim.deliverInbound({ kind: 'text', from: `9055520${String(n % 50).padStart(5, '0')}`, text: `in-${n}`, times: 1 });
        this.sent++;
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
