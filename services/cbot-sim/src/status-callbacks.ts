import type { CallbackSender } from './callback-sender.js';
import type { IdSource } from './ids.js';
import { cloudEnvelope, conversationCategory, statusPayload, type SimStatus } from './status-payload.js';
import type { Timers } from './timers.js';

export interface StatusCallbacksOptions {
  sender: CallbackSender;
  timers: Timers;
  ids: IdSource;
  now: () => number;
  /** Wrap each status in the Cloud API envelope. */
  cloud?: boolean;
}

const order: readonly SimStatus[] = ['sent', 'delivered', 'read'];
const conversationWindowS = 24 * 3600;

/**
 * Sends sent → delivered → read for one accepted message. Each status waits for its delay after
 * acceptance and for the previous status to finish (delivered or given up), so they arrive in order.
 */
export function sendStatusCallbacks(
  opts: StatusCallbacksOptions,
  message: { wamid: string; to: string; type: string },
  delaysMs: readonly [number, number, number],
): Promise<void> {
  return run(opts, message, delaysMs);
}

async function run(
  { sender, timers, ids, now, cloud }: StatusCallbacksOptions,
  message: { wamid: string; to: string; type: string },
  delaysMs: readonly [number, number, number],
): Promise<void> {
  const acceptedAt = now();
  const generation = sender.generation;
  const conversationId = ids.hex32();
  const category = conversationCategory(message.type);
  const expiresAt = Math.floor(acceptedAt / 1000) + conversationWindowS;
  for (const [i, status] of order.entries()) {
    const wait = acceptedAt + (delaysMs[i] ?? 0) - now();
    if (wait > 0) await timers.sleep(wait);
    if (timers.closed || sender.generation !== generation) return;
    const payload = statusPayload({
      wamid: message.wamid, recipientId: message.to, status, timestamp: Math.floor(now() / 1000),
      conversationId, expiresAt, category, cloud: cloud === true,
    });
    await sender.deliver('status', cloud ? cloudEnvelope(payload) : payload).done;
  }
}
