--[[
  The recipient queues' counters: per caller and priority (`o:pending`, for the backlog metrics) and
  per channel (`channels`), the queue's head leaving, and waking idle dispatchers.

  The recipient state hash `o:r:<to>` (kr): `s` its state (absent = idle, `ready`, `leased`, `held`),
  `tok` its lease token, `v` the version of its ready entry, `p` the priority it waits at, and `h`,
  `n`, `b` how many messages it has pending per priority. (Short names: see docs/data-layer.md.)
]]
--- @include "includes/keys"

local PRIORITY_RANK = {h = 3, n = 2, b = 1}
local PRIORITIES = {'h', 'n', 'b'}

-- Queued messages per caller and priority, for the backlog metrics.
local function countPending(c, p, delta)
  local field = (c or '-') .. '|' .. p
  if redis.call('HINCRBY', PENDING, field, delta) <= 0 then redis.call('HDEL', PENDING, field) end
end

-- Messages queued per channel (fields at 0 go, so a removed channel leaves nothing behind).
local function countChannel(delta)
  if redis.call('HINCRBY', CHANNELS, chId, delta) <= 0 then redis.call('HDEL', CHANNELS, chId) end
end

-- The head entry of `to`'s queue leaves it.
local function popHead(to, entry)
  redis.call('LPOP', kq(to))
  countChannel(-1)
  redis.call('HINCRBY', kr(to), string.sub(entry, 1, 1), -1)
  countPending(redis.call('HGET', krec(string.sub(entry, 2)), 'caller'), string.sub(entry, 1, 1), -1)
end

local function wake()
  if redis.call('EXISTS', IDLE) == 1 then
    redis.call('DEL', IDLE)
    redis.call('PUBLISH', WAKE, '1')
  end
end
