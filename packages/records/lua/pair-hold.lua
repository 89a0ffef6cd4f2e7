--[[
  131056 reported after the send (a failed status callback): the recipient's pair-rate wait grows as
  in retry.lua (field `pr` of its state), and a recipient waiting its turn (ready, or held for less)
  is held that long. A leased one keeps its lease (its send's own answer decides); an idle one has
  nothing to hold.

    KEYS[1] state        the recipient's state hash
    ARGV[1] base
    ARGV[2] now          ms
    ARGV[3] recTtl       s
    ARGV[4] ch           channel
    ARGV[5] to
  Returns {1|0 held, untilMs}.
]]
--- @include "includes/keys"

useChannel(ch)
local r = kr(to)
local st = redis.call('HGET', r, 's')
if not st then return {0, 0} end
local prev = tonumber(redis.call('HGET', r, 'pr') or '0')
local level = {{PAIR_FIRST_MS}}
if prev > 0 then level = math.min(prev * 2, {{PAIR_MAX_MS}}) end
redis.call('HSET', r, 'pr', level)
local untilMs = tonumber(now) + level
if st == 'ready' then
  redis.call('HSET', r, 's', 'held')
  redis.call('ZADD', HELD, untilMs, to)
  return {1, untilMs}
elseif st == 'held' then
  redis.call('ZADD', HELD, 'GT', untilMs, to)
  return {1, untilMs}
end
return {0, untilMs}
