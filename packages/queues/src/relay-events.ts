import type { Queue } from 'bullmq';
import { INBOUND_JOB_OPTIONS, relayEventJob } from './catalog.js';

/**
 * Hands events the relay originates (channel.paused / stopped / resumed) to the fanout through the
 * inbound queue (pass a Queue on QueueNames.inbound; it is not closed here); the fanout delivers them
 * to subscribers as it does a callback's events. Idempotent per event id.
 */
export class RelayEvents {
  readonly #queue: Queue;

  constructor(inbound: Queue) {
    this.#queue = inbound;
  }

  async emit(event: { id: string; channel?: string | undefined }, nowMs: number): Promise<void> {
    const { data, jobId } = relayEventJob(event, JSON.stringify(event), nowMs);
    await this.#queue.add('relay-event', data, { ...INBOUND_JOB_OPTIONS, jobId });
  }
}
