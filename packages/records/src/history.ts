/**
 * Values the Lua scripts share with TypeScript, substituted for the `{{NAME}}` placeholders of
 * lua/includes/history.lua when a script is loaded: the status order (once, in @cbot-relay/messages)
 * and the record timeline's codes, which message-record.ts reads back.
 *
 * Memory: the record hash holds only short values so Redis keeps it as a compact listpack
 * (hash-max-listpack-value, 64 bytes by default); the caller's body, usually longer, has its own key.
 * `updatedAt` and `epoch` (age for DISPATCH_MAX_AGE_S) default to `createdAt` until they differ.
 */

import { STATUS_RANK } from '@cbot-relay/messages';
import { USAGE_TTL_S } from './usage.js';

/** Codes of the record's timeline (field `hist`), one letter per status; message-record.ts reads them back. */
export const HISTORY_CODES = { queued: 'q', sending: 'i', sent: 's', delivered: 'd', read: 'r', failed: 'f', expired: 'x' } as const;

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
  HISTORY_MAX_CHARS: String(HISTORY_MAX_CHARS),
  USAGE_TTL_S: String(USAGE_TTL_S),
};
