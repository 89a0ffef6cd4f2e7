/**
 * Lua for the message records' callback side (the outbound steps are in outbound-scripts.ts). Each
 * script is one atomic step of the record's life. Every key shares the prefix's hash slot in Redis
 * Cluster (see README).
 *
 * Memory: the record hash holds only short values so Redis keeps it as a compact listpack
 * (hash-max-listpack-value, 64 bytes by default); the caller's body, usually longer, has its own key.
 * `updatedAt` and `epoch` (age for DISPATCH_MAX_AGE_S) default to `createdAt` until they differ.
 */

import { STATUS_RANK } from '@cbot-relay/messages';

// The status order lives once, in @cbot-relay/messages; the scripts get it as a Lua table.
export const RANK_TABLE = `{${Object.entries(STATUS_RANK)
  .map(([status, rank]) => `${status}=${rank}`)
  .join(', ')}}`;

/** Codes of the record's timeline (field `hist`), one letter per status; message-record.ts reads them back. */
export const HISTORY_CODES = { scheduled: 'w', queued: 'q', sending: 'i', sent: 's', delivered: 'd', read: 'r', failed: 'f', expired: 'x', canceled: 'c' } as const;

/** Longest `hist` kept (chars); past it later statuses are not added, so a record stays bounded (about 60 entries). */
export const HISTORY_MAX_CHARS = 600;

/**
 * The record's timeline: `addHistory(rec, status, atMs, cbotAtS)` appends one entry to field `hist`,
 * `<code><ms after createdAt, base 36>[~<CBOT's unix seconds, base 36>]`, entries joined by `,`.
 * That short form keeps a queued → sending → sent → delivered → read timeline under 64 bytes, so the
 * hash stays a listpack. Callers add an entry only when the status moved, so a repeat adds nothing.
 */
export const HISTORY_LIB = `
local HIST_CODE = {${Object.entries(HISTORY_CODES)
  .map(([status, code]) => `${status}='${code}'`)
  .join(', ')}}
local function b36(n)
  n = math.floor(tonumber(n))
  if n <= 0 then return '0' end
  local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  local s = ''
  while n > 0 do
    local d = n % 36
    s = string.sub(digits, d + 1, d + 1) .. s
    n = (n - d) / 36
  end
  return s
end
local function addHistory(rec, status, at, cbotAt)
  local code = HIST_CODE[status]
  if not code then return end
  local r = redis.call('HMGET', rec, 'createdAt', 'hist')
  local h = r[2] or ''
  if #h > ${HISTORY_MAX_CHARS} then return end
  local e = code .. b36(tonumber(at) - tonumber(r[1] or at))
  if cbotAt and cbotAt ~= '' then e = e .. '~' .. b36(cbotAt) end
  if h ~= '' then e = h .. ',' .. e end
  redis.call('HSET', rec, 'hist', e)
end
`;

const PRELUDE = `
local RANK = ${RANK_TABLE}
${HISTORY_LIB}
`;

/**
 * KEYS: wamid, wpend, dlq. ARGV: status, now, errorJson|'', pendTtlS, recKeyPrefix, recTtlS, bodyKeyPrefix,
 * cbotAtS|'' (the callback's own timestamp, unix seconds), park ('0': do not park an unknown wamid's status).
 * Statuses only move forward. A status for a wamid the relay has not recorded yet is parked (with its
 * times) and applied by the outbound settle when the send is recorded.
 */
export const APPLY_STATUS = `${PRELUDE}
local s = ARGV[1]
local rank = RANK[s]
local id = redis.call('GET', KEYS[1])
if not id then
  -- ARGV[9] '0': only asking (another partition may know the wamid); park nothing.
  if rank and rank >= 2 and ARGV[9] ~= '0' then
    local cur = redis.call('HGET', KEYS[2], 'status')
    if not cur or RANK[cur] < rank then
      -- Each parked status with its times (\`h\`: "<status> <ms> <cbot s>;" …), for the record's history.
      local parked = redis.call('HGET', KEYS[2], 'h') or ''
      redis.call('HSET', KEYS[2], 'status', s, 'error', ARGV[3], 'h', parked .. s .. ' ' .. ARGV[2] .. ' ' .. (ARGV[8] or '') .. ';')
      redis.call('EXPIRE', KEYS[2], ARGV[4])
    end
  end
  return {'unknown'}
end
local rec = ARGV[5] .. id
local cur = redis.call('HGET', rec, 'status')
if not cur then return {'gone', id} end
if rank and rank >= 2 and RANK[cur] and RANK[cur] >= 2 and rank > RANK[cur] then
  redis.call('HSET', rec, 'status', s, 'updatedAt', ARGV[2])
  addHistory(rec, s, ARGV[2], ARGV[8])
  if ARGV[3] ~= '' then redis.call('HSET', rec, 'error', ARGV[3]) end
  if s == 'failed' then redis.call('ZADD', KEYS[3], ARGV[2], id) end
  -- Delivered or read is final success: the body is no longer needed for a replay.
  if s == 'delivered' or s == 'read' then redis.call('DEL', ARGV[7] .. id) else redis.call('EXPIRE', ARGV[7] .. id, ARGV[6]) end
  redis.call('EXPIRE', rec, ARGV[6])
  return {'applied', id}
end
return {'ignored', id}
`;

