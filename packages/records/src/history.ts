/**
 * Values the Lua scripts share with TypeScript, substituted for the `{{NAME}}` placeholders of
 * lua/includes/history.lua when a script is loaded: the status order (once, in @cbot-relay/messages)
 * and the record timeline's codes, which message-record.ts reads back.
 *
 * Memory: the record hash holds only short values so Redis keeps it as a compact listpack
 * (hash-max-listpack-value, 64 bytes by default); the caller's body, usually longer, has its own key.
 * `updatedAt` and `epoch` (age for DISPATCH_MAX_AGE_S) default to `createdAt` until they differ.
 */

import { createHash } from 'node:crypto';
import { STATUS_RANK } from '@cbot-relay/messages';
import { WINDOW_MS } from './window.js';
import { USAGE_TTL_S } from './usage.js';
import { GATE_CONSTANTS, PAIR_CONSTANTS } from './channel-gate.js';

/** The furthest ahead X-Relay-Send-At may schedule a message (seconds); a tag's index is kept this much longer. */
export const MAX_SEND_AHEAD_S = 30 * 86_400;

/**
 * Codes of the record's timeline (field `hist`), one letter per status; message-record.ts reads them
 * back. `fallback` is no status: the step where the relay chose the message's fallback template.
 */
export const HISTORY_CODES = { scheduled: 'w', queued: 'q', sending: 'i', sent: 's', delivered: 'd', read: 'r', failed: 'f', expired: 'x', canceled: 'c', fallback: 'b' } as const;

/** Codes of the record's compact attempt lines (message-record.ts's attemptField), one letter per outcome. */
export const ATTEMPT_CODES = { sent: 's', retry: 'r', throttled: 't', failed: 'f', expired: 'x', replayed: 'p', unknown: 'u', reconciled: 'c' } as const;

/**
 * The wamid → relay id mapping (lua/includes/wamid.lua): buckets per channel and UTC day. 16,384 keep a
 * bucket under 128 entries (a listpack) up to ~2 M sends a day per channel and partition.
 */
export const WAMID_SLOTS = 16_384;

/** A wamid's bucket slot and field, as lua/includes/wamid.lua's wamidSpot computes them. */
export function wamidSpot(wamid: string): { slot: number; field: Buffer } {
  const h = createHash('sha1').update(wamid).digest();
  return { slot: h.readUInt16BE(0) % WAMID_SLOTS, field: h.subarray(2, 10) };
}

/** How long the previous release's one-key-per-wamid mapping is still written (s): a rolling upgrade's length. */
export const WAMID_LEGACY_TTL_S = 3600;

/** Longest `hist` kept (chars); past it later statuses are not added, so a record stays bounded (about 60 entries). */
export const HISTORY_MAX_CHARS = 600;

/** Every script's placeholders (defineScript's `constants`). */
export const LUA_CONSTANTS: Readonly<Record<string, string>> = {
  STATUS_RANK: `{${Object.entries(STATUS_RANK)
    .map(([status, rank]) => `${status}=${rank}`)
    .join(', ')}}`,
  HISTORY_CODES: `{${Object.entries(HISTORY_CODES)
    .map(([status, code]) => `${status}='${code}'`)
    .join(', ')}}`,
  ATTEMPT_CODES: `{${Object.entries(ATTEMPT_CODES)
    .map(([outcome, code]) => `${outcome}='${code}'`)
    .join(', ')}}`,
  HISTORY_MAX_CHARS: String(HISTORY_MAX_CHARS),
  WAMID_SLOTS: String(WAMID_SLOTS),
  WAMID_LEGACY_TTL_S: String(WAMID_LEGACY_TTL_S),
  WINDOW_MS: String(WINDOW_MS),
  MAX_SEND_AHEAD_S: String(MAX_SEND_AHEAD_S),
  USAGE_TTL_S: String(USAGE_TTL_S),
  // The channel gate's escalation (lua/gate.lua) and the pair-rate holds (retry.lua, pair-hold.lua).
  ...GATE_CONSTANTS,
  ...PAIR_CONSTANTS,
};
