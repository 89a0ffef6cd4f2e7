--[[
  A lease's end for the queue: advance (the head is done) or hold (retry later), both only for the
  current holder of the lease (fencing token `tok`).
]]
--- @include "includes/ready"

-- The lease of `to` is token tok and still current.
local function leaseHeld(to, tok)
  local st = redis.call('HMGET', kr(to), 's', 'tok')
  return st[1] == 'leased' and st[2] == tok
end

-- The leased head message (entry) is done: off the queue, and the recipient ready for the next one.
local function advance(to, tok, entry)
  if not leaseHeld(to, tok) then return false end
  redis.call('ZREM', LEASES, to)
  if redis.call('LINDEX', kq(to), 0) == entry then popHead(to, entry) end
  makeReady(to)
  return true
end

-- The leased recipient waits until untilMs (a retry's backoff, a throttle) with its head in place.
local function hold(to, tok, untilMs)
  if not leaseHeld(to, tok) then return false end
  redis.call('ZREM', LEASES, to)
  redis.call('HSET', kr(to), 's', 'held')
  redis.call('HDEL', kr(to), 'tok')
  redis.call('ZADD', HELD, untilMs, to)
  return true
end
