import type { RelayEvent } from './event.js';
import { eventId } from './event.js';

/** A channel's gate after a change: the state the event announces. */
export interface ChannelChange {
  state: 'active' | 'paused' | 'stopped';
  reason?: string;
  code?: number;
  /** Epoch ms the pause ends; absent: until an operator resumes. */
  untilMs?: number;
  /** The change's number on that channel (its event id is made of it, so a retried emit dedupes). */
  seq?: number;
  /** Epoch ms of the change. */
  atMs?: number;
}

/**
 * `channel.paused` / `channel.stopped` / `channel.resumed` for a change of a channel's gate, with
 * `data: {channel, reason, code, until}` (`code` the WhatsApp code or null, `until` ISO-8601 or null).
 * The id comes from the channel and the change's number: emitting one change twice yields one event.
 */
export function channelEvent(channel: string, change: ChannelChange, nowMs: number): RelayEvent {
  const type = change.state === 'active' ? 'channel.resumed' : change.state === 'stopped' ? 'channel.stopped' : 'channel.paused';
  const at = new Date(change.atMs ?? nowMs).toISOString();
  return {
    id: eventId(`channel|${channel}|${type}|${change.seq ?? change.atMs ?? nowMs}`),
    type,
    occurredAt: at,
    receivedAt: at,
    channel,
    data: {
      channel,
      reason: change.reason ?? null,
      code: change.code ?? null,
      until: change.untilMs === undefined ? null : new Date(change.untilMs).toISOString(),
    },
  };
}
