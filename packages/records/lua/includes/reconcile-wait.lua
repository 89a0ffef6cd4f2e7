--[[
  unknownOutcome(to, id, rec, r): the wait of a head message whose last attempt's outcome is unknown
  (docs/resilience.md, "No double message: reconciliation"). `r` is the claim's HMGET of the record
  (r[4] inflight stamp, r[11] rcw). Needs the claim's `now`, `nowIso`, `reconcileMs`, `appliedUpTo`.
]]
--- @include "includes/ready"
--- @include "includes/reconcile"

-- The head message `id`'s last attempt has an unknown outcome (its answer was lost): CBOT may have
-- it. Returns the orphan that identifies it, or 'wait' (the recipient is held, its later messages
-- behind it), or nil when the wait is over and it is to be sent again.
local function unknownOutcome(to, id, rec, r)
  local m = findOrphan(to, id, tonumber(r[4]))
  if m then return m end
  local since = tonumber(r[11] or '')
  if not since then
    since = now
    redis.call('HSET', rec, 'rcw', now)
    appendAttempt(rec, '{"at":"' .. nowIso .. '","outcome":"unknown","detail":"the answer to the last attempt was lost; waiting up to ' .. math.floor(tonumber(reconcileMs) / 1000) .. ' s for a status before sending again"}')
  end
  local untilMs = since + tonumber(reconcileMs)
  -- The window is over, but callbacks that reached the relay within it may not be applied yet
  -- (fanouts behind, appliedUpTo): look again in 500 ms, up to ten windows in all.
  if now >= untilMs and appliedUpTo ~= '' and tonumber(appliedUpTo) < untilMs and now < since + 10 * tonumber(reconcileMs) then
    untilMs = now + 500
  end
  if now < untilMs then
    redis.call('HSET', kr(to), 's', 'held', 'rc', id)
    redis.call('HDEL', kr(to), 'tok')
    redis.call('ZADD', HELD, untilMs, to)
    return 'wait'
  end
  redis.call('HDEL', rec, 'rcw')
  return nil
end
