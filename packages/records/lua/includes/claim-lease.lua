--[[
  attempt(outcome): an attempt's line at `now` (compact, as message-record.ts's attemptField). lease(to, entry, id, rec, r, body): the head message
  `id` is sent now: stamped in flight, the recipient leased under a fresh token; returns the claim's
  job {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt, caller, fb}. `r` is claim-take's
  HMGET of the record. Needs the claim's `now`, `nowIso`, `leaseMs`, `fence`, `ambiguous`.
]]
--- @include "includes/ready"
--- @include "includes/history"

-- The compact line (message-record.ts's attemptField): outcome letter, ms in base 36.
local ATTEMPT_CODE = {{ATTEMPT_CODES}}
local function attempt(outcome) return ATTEMPT_CODE[outcome] .. b36(now) end

-- The head message `id` is sent now: stamped in flight, the recipient leased under a fresh token.
local function lease(to, entry, id, rec, r, body)
  if r[1] ~= 'sending' then addHistory(rec, 'sending', now) end
  -- The stamp of the earliest attempt not known to have ended stays: a status after it identifies the message.
  redis.call('HSET', rec, 'status', 'sending', 'updatedAt', now)
  local amb = 0
  if r[4] then
    amb = 1
    redis.call('HINCRBY', rec, 'resends', 1)
    redis.call('INCR', ambiguous)
  else
    redis.call('HSET', rec, 'inflight', now)
  end
  local tok = tostring(redis.call('INCR', fence))
  redis.call('HSET', kr(to), 's', 'leased', 'tok', tok)
  redis.call('ZADD', LEASES, now + tonumber(leaseMs), to)
  -- A scheduled message's wait counts from its due time.
  return {to, tok, entry, body, amb, r[5] or '0', r[10] or r[6], r[7] or '-', r[9] or ''}
end

