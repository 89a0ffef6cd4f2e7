/**
 * WhatsApp's customer-service window: a free-form message (any type but `template`) is delivered only
 * within 24 h of the recipient's last message to the number. The same rule runs in Lua at accept and
 * at claim (WINDOW_LIB in outbound-scripts.ts); this is its TypeScript twin for the read API.
 */
export const WINDOW_MS = 24 * 3_600_000;

/** How long a recipient's `lastInboundAt` is kept after its last inbound: the window (24 h) plus 6 days, so the read API can still say when it was. */
export const LAST_INBOUND_TTL_S = 7 * 86_400;

export const WINDOW_STATES = ['open', 'closed', 'unknown'] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

export const WINDOW_POLICIES = ['enforce', 'warn', 'off'] as const;
export type WindowPolicy = (typeof WINDOW_POLICIES)[number];

/**
 * `open` within 24 h of the last inbound; `closed` after it, or with no inbound known while the relay
 * has tracked the channel's inbound for 24 h or more; `unknown` otherwise (nothing seen yet).
 */
export function windowState(lastInboundAtS: number | undefined, trackedSinceMs: number | undefined, nowMs: number): WindowState {
  if (lastInboundAtS !== undefined) return nowMs - lastInboundAtS * 1000 < WINDOW_MS ? 'open' : 'closed';
  if (trackedSinceMs !== undefined && nowMs - trackedSinceMs >= WINDOW_MS) return 'closed';
  return 'unknown';
}

/** A callback's `timestamp` (WhatsApp unix seconds, string or number) clamped to now; undefined when unreadable. */
export function inboundSeconds(timestamp: unknown, nowMs: number): number | undefined {
  const s = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' && /^\d{1,12}$/.test(timestamp.trim()) ? Number(timestamp.trim()) : Number.NaN;
  if (!Number.isFinite(s) || s <= 0) return undefined;
  return Math.min(Math.floor(s), Math.floor(nowMs / 1000));
}

/** The window policy's one-letter form in the scripts' arguments. */
export const POLICY_CODE: Record<WindowPolicy, string> = { enforce: 'e', warn: 'w', off: 'o' };
export const WINDOW_OF_CODE: Record<string, WindowState> = { o: 'open', c: 'closed', u: 'unknown' };
