--[[
  A recipient becoming ready: one entry in its caller's ready list at its priority, with a fresh
  version (older entries go stale and are skipped when they come up).
]]
--- @include "includes/queue"

-- Queues recipient `to` at priority p under caller c, with a fresh version (older entries go stale).
local function pushReady(to, p, c)
  local r = kr(to)
  local v = redis.call('HINCRBY', r, 'v', 1)
  redis.call('HSET', r, 's', 'ready', 'p', p)
  if redis.call('RPUSH', kready(p, c), v .. '|' .. to) == 1 then
    redis.call('RPUSH', kring(p), c)
  end
end

-- A recipient with no lease and no hold: ready for its head message at the highest priority it has
-- pending (a high message behind a bulk one lifts the bulk one), charged to the head's caller; or
-- forgotten when nothing is pending.
local function makeReady(to)
  local r = kr(to)
  redis.call('HDEL', r, 's', 'tok')
  local head = redis.call('LINDEX', kq(to), 0)
  if not head then
    redis.call('DEL', r)
    return
  end
  local counts = redis.call('HMGET', r, 'h', 'n', 'b')
  local p = string.sub(head, 1, 1)
  for i = 1, 3 do
    if tonumber(counts[i] or '0') > 0 then p = PRIORITIES[i]; break end
  end
  local c = redis.call('HGET', krec(string.sub(head, 2)), 'caller') or '-'
  pushReady(to, p, c)
end

-- Appends message id to its recipient's queue; a recipient that was idle becomes ready.
-- Returns true when it did (the scheduler may want waking).
local function enqueue(to, id, p, c)
  local r = kr(to)
  redis.call('RPUSH', kq(to), p .. id)
  countChannel(1)
  redis.call('HINCRBY', r, p, 1)
  countPending(c, p, 1)
  local st = redis.call('HMGET', r, 's', 'p')
  if not st[1] then
    pushReady(to, p, c)
    return true
  end
  if st[1] == 'ready' and PRIORITY_RANK[p] > PRIORITY_RANK[st[2]] then pushReady(to, p, c) end
  return false
end
