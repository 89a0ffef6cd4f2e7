--[[
  The claim's choice of recipient: due holds and expired leases become ready, then pick() takes the
  next ready recipient — priorities strictly in order, callers round robin within one, each caller's
  turn as many picks as its weight (`weights`). Needs the claim's `now` (a number) and `weights`.
]]
--- @include "includes/ready"

-- Recipients in `set` (HELD or LEASES) that fell due become ready.
local function promote(set)
  local due = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, 500)
  for _, to in ipairs(due) do
    redis.call('ZREM', set, to)
    local st = redis.call('HGET', kr(to), 's')
    if (set == HELD and st == 'held') or (set == LEASES and st == 'leased') then makeReady(to) end
  end
end

local function pick()
  for i = 1, 3 do
    local p = PRIORITIES[i]
    local ring = kring(p)
    local credit = kcredit(p)
    for _ = 1, 1000 do
      local c = redis.call('LINDEX', ring, 0)
      if not c then break end
      local list = kready(p, c)
      local e = redis.call('LPOP', list)
      local drained = redis.call('LLEN', list) == 0
      if drained then
        redis.call('LPOP', ring)
        redis.call('HDEL', credit, c)
      end
      if e then
        local sep = string.find(e, '|', 1, true)
        local v, to = string.sub(e, 1, sep - 1), string.sub(e, sep + 1)
        local st = redis.call('HMGET', kr(to), 's', 'v')
        if st[1] == 'ready' and st[2] == v then
          if not drained then
            local used = redis.call('HINCRBY', credit, c, 1)
            if used >= tonumber(redis.call('HGET', weights, c) or '1') then
              redis.call('LPOP', ring)
              redis.call('RPUSH', ring, c)
              redis.call('HDEL', credit, c)
            end
          end
          return to
        end
      end
    end
  end
  return nil
end
