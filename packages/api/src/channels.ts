import { z } from 'zod';
import type { ChannelGateState } from '@cbot-relay/records';

/** `GET /v1/channels`: one CBOT channel (number), its gate and its backlog. */
export const ChannelView = z.object({
  id: z.string(),
  api: z.enum(['onprem', 'cloud']),
  state: z.enum(['active', 'paused', 'stopped']).meta({
    description: '`paused`: sending waits until `until` (or an operator resume when `until` is null); `stopped`: WhatsApp restricted or locked the account (368, 131031), sending waits for an operator resume',
  }),
  reason: z.enum(['throughput', 'quality', 'restricted', 'operator']).nullable().meta({
    description: 'why: `throughput` (130429, 80007, 4, 1015, HTTP 429), `quality` (131048), `restricted` (368, 131031), `operator` (POST …/pause); null when active',
  }),
  code: z.int().nullable().meta({ description: 'the WhatsApp error code that paused or stopped the channel, if one did' }),
  until: z.iso.datetime().nullable().meta({ description: 'when a timed pause ends; null when active, stopped or paused until resumed' }),
  rateLimit: z.number().meta({ description: 'messages per second to CBOT on this channel (rateLimit / CBOT_RATE_LIMIT)' }),
  backlog: z.int().min(0).meta({ description: 'messages queued on the channel, not yet sent or ended' }),
  quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).meta({ description: 'the number quality from the last phone_number_quality_update callback; UNKNOWN until one came' }),
});
export type ChannelView = z.infer<typeof ChannelView>;

export const ChannelList = z.array(ChannelView);
export type ChannelList = z.infer<typeof ChannelList>;

/** The longest operator pause with seconds (30 days); without `seconds` the pause lasts until resumed. */
export const CHANNEL_PAUSE_MAX_S = 30 * 86_400;

/** `POST /v1/channels/{id}/pause`: without `seconds`, paused until `POST …/resume`. An empty body is `{}`. */
export const ChannelPauseRequest = z.strictObject({
  seconds: z.int().min(1).max(CHANNEL_PAUSE_MAX_S).optional().meta({ description: `how long, 1 to ${CHANNEL_PAUSE_MAX_S}; absent: until resumed` }),
});
export type ChannelPauseRequest = z.infer<typeof ChannelPauseRequest>;

/** A configured channel, as the view needs it. */
export interface ChannelInfo {
  id: string;
  api: 'onprem' | 'cloud';
  rateLimit: number;
}

const REASONS = new Set(['throughput', 'quality', 'restricted', 'operator']);
const QUALITIES = new Set(['GREEN', 'YELLOW', 'RED']);

/** A channel's row of GET /v1/channels (and `cbot-relay channels list`): its gate, backlog and number quality. */
export function channelView(ch: ChannelInfo, s: ChannelGateState, backlog: number, quality: string | undefined): ChannelView {
  const active = s.state === 'active';
  return {
    id: ch.id,
    api: ch.api,
    state: s.state,
    reason: !active && s.reason !== undefined && REASONS.has(s.reason) ? (s.reason as ChannelView['reason']) : active ? null : 'throughput',
    code: active ? null : (s.code ?? null),
    until: active || s.untilMs === undefined ? null : new Date(s.untilMs).toISOString(),
    rateLimit: ch.rateLimit,
    backlog,
    quality: quality !== undefined && QUALITIES.has(quality) ? (quality as ChannelView['quality']) : 'UNKNOWN',
  };
}

