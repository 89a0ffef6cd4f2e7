--[[
  The message record's end: appendAttempt, leaveBacklog, endRecord. Needs `base`, `now`, `recTtl`.
]]
--- @include "includes/keys"
--- @include "includes/history"
--- @include "includes/pricing"
--- @include "includes/wamid"

local function appendAttempt(rec, json)
  if json == '' then return end
  local prev = redis.call('HGET', rec, 'attempts')
  if prev and #prev < 16000 then
    redis.call('HSET', rec, 'attempts', prev .. '\n' .. json)
  elseif not prev then
    redis.call('HSET', rec, 'attempts', json)
  end
end

-- A failed record becomes a dead letter. Entries older than the retention go at the same time: their
-- records (not touched since they failed) have expired, and nothing else would remove them.
local function deadLetter(id)
  redis.call('ZADD', DLQ, now, id)
  redis.call('ZREMRANGEBYSCORE', DLQ, '-inf', '(' .. (tonumber(now) - tonumber(recTtl) * 1000))
end

-- A record leaves the backlog (its index entry and its bytes).
local function leaveBacklog(rec, id)
  if redis.call('ZREM', OPEN, id) == 1 then
    local bytes = tonumber(redis.call('HGET', rec, 'bytes') or '0')
    if bytes > 0 then redis.call('DECRBY', OPEN_BYTES, bytes) end
  end
end

-- Ends an open record: o is 'sent' (with wamid), 'failed' (with errorJson) or 'expired'.
-- Returns 'ok', 'closed' (it had ended already) or 'missing'.
local function endRecord(id, o, attemptJson, wamid, errorJson, wamidTtl)
  local rec = krec(id)
  local st = redis.call('HGET', rec, 'status')
  if not st then return 'missing' end
  appendAttempt(rec, attemptJson)
  redis.call('HDEL', rec, 'inflight')
  redis.call('HSET', rec, 'updatedAt', now)
  redis.call('EXPIRE', rec, recTtl)
  redis.call('EXPIRE', kbody(id), recTtl)
  if st ~= 'queued' and st ~= 'sending' then return 'closed' end
  leaveBacklog(rec, id)
  if o == 'sent' then
    redis.call('HSET', rec, 'status', 'sent', 'wamid', wamid)
    addHistory(rec, 'sent', now)
    setWamid(wamid, id, now, wamidTtl)
    -- Callbacks can overtake the dispatcher's own write: apply what arrived first.
    local wpend = kwpend(wamid)
    local pend = redis.call('HMGET', wpend, 'status', 'error', 'h')
    if pend[1] and RANK[pend[1]] and RANK[pend[1]] > RANK['sent'] then
      redis.call('HSET', rec, 'status', pend[1])
      -- Every status parked meanwhile (each outranked the one before), with its own times.
      for ps, pat, pcbot in string.gmatch(pend[3] or '', '(%a+) (%d+) (%d*);') do
        if RANK[ps] and RANK[ps] > RANK['sent'] then addHistory(rec, ps, pat, pcbot) end
      end
      if pend[2] and pend[2] ~= '' then redis.call('HSET', rec, 'error', pend[2]) end
      if pend[1] == 'failed' then deadLetter(id) end
      if pend[1] == 'delivered' or pend[1] == 'read' then redis.call('DEL', kbody(id)) end
    end
    -- A priced status that came first: its pricing and usage count (includes/pricing.lua).
    applyPricing(rec, redis.call('HGET', wpend, 'pr'), now)
    redis.call('DEL', wpend)
  elseif o == 'failed' then
    redis.call('HSET', rec, 'status', 'failed', 'error', errorJson)
    addHistory(rec, 'failed', now)
    deadLetter(id)
  else
    redis.call('HSET', rec, 'status', 'expired')
    addHistory(rec, 'expired', now)
    redis.call('DEL', kbody(id))
  end
  return 'ok'
end
