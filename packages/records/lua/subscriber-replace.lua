--[[
  Replaces a subscriber's record if it is still `expected` (compare and set).

    KEYS[1] all
    KEYS[2] deleted
    KEYS[3] version
    ARGV[1] name
    ARGV[2] expected     the JSON record read before
    ARGV[3] json
    ARGV[4] channel
  Returns 1 (replaced), 0 (changed meanwhile), -1 (missing).
]]
--- @include "includes/subscribers"

local cur = redis.call('hget', all, name)
if not cur then return -1 end
if cur ~= expected then return 0 end
redis.call('hset', all, name, json)
bump()
return 1
