--[[
  Status ranks and the record's timeline. RANK (status → rank, statuses only move forward) comes from
  @cbot-relay/messages' STATUS_RANK, the codes from HISTORY_CODES (src/history.ts).

  addHistory(rec, status, atMs, cbotAtS) appends one entry to field `hist`,
  `<code><ms after createdAt, base 36>[~<CBOT's unix seconds, base 36>]`, entries joined by `,`.
  That short form keeps a queued → sending → sent → delivered → read timeline under 64 bytes, so the
  hash stays a listpack. Callers add an entry only when the status moved, so a repeat adds nothing.

  With the history store on (HIST_ON set by a relay with HISTORY_DATABASE_URL), each entry also marks
  the record dirty (HIST_DIRTY, by the time of the change) in the same step, so the history writer
  copies it to PostgreSQL; the flag is read once per script call.
]]
--- @include "includes/keys"
local histOn
local function markDirty(rec, at)
  if histOn == nil then histOn = redis.call('EXISTS', HIST_ON) == 1 end
  if histOn then redis.call('ZADD', HIST_DIRTY, at, idOfRec(rec)) end
end
local RANK = {{STATUS_RANK}}
local HIST_CODE = {{HISTORY_CODES}}
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
  if #h > {{HISTORY_MAX_CHARS}} then return end
  local e = code .. b36(tonumber(at) - tonumber(r[1] or at))
  if cbotAt and cbotAt ~= '' then e = e .. '~' .. b36(cbotAt) end
  if h ~= '' then e = h .. ',' .. e end
  redis.call('HSET', rec, 'hist', e)
  markDirty(rec, at)
end
