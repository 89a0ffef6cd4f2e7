import { z } from 'zod';

/** Why a channel is held: WhatsApp throttled it, restricted it for quality, restricted or locked the account, or an operator paused it. */
export const CHANNEL_HOLD_REASONS = ['throughput', 'quality', 'restricted', 'operator'] as const;
export type ChannelHoldReason = (typeof CHANNEL_HOLD_REASONS)[number];

/** What can happen to a channel's gate (lua/gate.lua). */
export type GateChange =
  /** A throughput throttle (130429, 80007, 4, 1015, HTTP 429): Retry-After, else 1 s doubling to 60 s. */
  | { action: 'throughput'; code?: number; retryAfterMs?: number }
  /** 131048: QUALITY_PAUSE_S, doubling on a repeat within 24 h up to 24 h. */
  | { action: 'quality'; code?: number; retryAfterMs?: number }
  /** 368 / 131031: held until an operator resumes. */
  | { action: 'stop'; code?: number }
  /** An operator's pause: `ms` from now, or until resumed when absent. */
  | { action: 'pause'; ms?: number }
  | { action: 'resume' };

/** A channel's gate as the API shows it. `until`: epoch ms the pause ends (absent: until resumed, or active). */
export interface ChannelGateState {
  state: 'active' | 'paused' | 'stopped';
  reason?: string;
  code?: number;
  untilMs?: number;
  /** Numbers every change of the channel's gate (event ids). */
  seq?: number;
  /** When the change was made (epoch ms). */
  atMs?: number;
}

const Stored = z.object({
  state: z.enum(['active', 'paused', 'stopped']),
  reason: z.string().optional(),
  code: z.number().optional(),
  until: z.number().optional(),
  seq: z.number().optional(),
  at: z.number().optional(),
});

/** The gate key's value (and its PTTL) as a state; '' or absent is active, an older relay's `1` a throughput pause. */
export function parseGate(value: string | null | undefined, pttlMs: number, nowMs: number): ChannelGateState {
  if (value === null || value === undefined || value === '') return { state: 'active' };
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    raw = undefined;
  }
  const parsed = Stored.safeParse(raw);
  if (!parsed.success) return { state: 'paused', reason: 'throughput', ...(pttlMs > 0 ? { untilMs: nowMs + pttlMs } : {}) };
  const s = parsed.data;
  const out: ChannelGateState = { state: s.state };
  if (s.reason !== undefined) out.reason = s.reason;
  if (s.code !== undefined) out.code = s.code;
  if (s.until !== undefined) out.untilMs = s.until;
  if (s.seq !== undefined) out.seq = s.seq;
  if (s.at !== undefined) out.atMs = s.at;
  return out;
}

/** 131056 (pair rate limit): the first hold of a recipient, and the longest it grows to (doubling). */
export const PAIR_FIRST_MS = 6_000;
export const PAIR_MAX_MS = 300_000;
/** After this long without a throughput throttle the wait starts again at 1 s. */
export const THROUGHPUT_RESET_MS = 300_000;
export const THROUGHPUT_FIRST_MS = 1_000;
export const THROUGHPUT_MAX_MS = 60_000;
/** A 131048 within this long of the last one doubles the quality pause (up to the same 24 h). */
export const QUALITY_REPEAT_MS = 86_400_000;
export const QUALITY_MAX_MS = 86_400_000;

/** The `{{NAME}}` values of lua/gate.lua (part of LUA_CONSTANTS). */
export const GATE_CONSTANTS: Readonly<Record<string, string>> = {
  THROUGHPUT_RESET_MS: String(THROUGHPUT_RESET_MS),
  THROUGHPUT_FIRST_MS: String(THROUGHPUT_FIRST_MS),
  THROUGHPUT_MAX_MS: String(THROUGHPUT_MAX_MS),
  QUALITY_REPEAT_MS: String(QUALITY_REPEAT_MS),
  QUALITY_MAX_MS: String(QUALITY_MAX_MS),
  ESCALATION_TTL_MS: String(2 * QUALITY_REPEAT_MS),
};

/** The `{{NAME}}` values of the pair-rate holds in lua/retry.lua and lua/pair-hold.lua (part of LUA_CONSTANTS). */
export const PAIR_CONSTANTS: Readonly<Record<string, string>> = { PAIR_FIRST_MS: String(PAIR_FIRST_MS), PAIR_MAX_MS: String(PAIR_MAX_MS) };
