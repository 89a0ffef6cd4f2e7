--[[
  What the rows of one accept call share: the Idempotency-Key check, the list indexes, the backlog's
  size and the wake-up. Needs `base`, `now`, `recTtl`.

  The list indexes (MessageStore.list): per caller and per recipient, each a zset by acceptance
  time, written with the record so a durable message is always listed; every message is listed by
  merging the callers' indexes (`ix:callers` names them), which costs no entry of its own. Entries
  older than the retention (recTtl) are trimmed as new ones arrive, and a key nobody writes to
  expires whole.

  What one script call has done once need not be done again for its other rows (a batch's rows share
  the clock): trimming and expiring an index key, adding a caller, reading the backlog's size, and
  waking the dispatchers.
]]
--- @include "includes/queue"

local function earlier(idem, fingerprint)
  if fingerprint == '' then return nil end
  local prev = redis.call('GET', idem)
  if not prev then return nil end
  local sep = string.find(prev, '|', 1, true)
  local pid = string.sub(prev, sep + 1)
  if string.sub(prev, 1, sep - 1) ~= fingerprint then return {'conflict', pid} end
  return {'duplicate', pid}
end

local trimmed, callersSeen, woke = {}, {}, false
local function indexKey(key, id)
  redis.call('ZADD', key, now, id)
  if not trimmed[key] then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (tonumber(now) - tonumber(recTtl) * 1000))
    redis.call('EXPIRE', key, recTtl)
    trimmed[key] = true
  end
end
local function indexMessage(id, caller, to)
  indexKey(kixCaller(caller), id)
  indexKey(kixTo(to), id)
  if not callersSeen[caller] then
    redis.call('SADD', IX_CALLERS, caller)
    redis.call('EXPIRE', IX_CALLERS, recTtl)
    callersSeen[caller] = true
  end
end
-- The backlog's count and bytes, read once per call and kept up to date with each write.
local openCount, openBytes
local function backlogNow()
  if not openCount then
    openCount = redis.call('ZCARD', OPEN)
    openBytes = tonumber(redis.call('GET', OPEN_BYTES) or '0')
  end
end
local function wakeOnce()
  if not woke then
    wake()
    woke = true
  end
end
