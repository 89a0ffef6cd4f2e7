--[[
  Deletes a subscriber and remembers the name (a restart does not seed it again).

    KEYS[1] all
    KEYS[2] deleted
    KEYS[3] version
    ARGV[1] name
    ARGV[2] channel
  Returns 1 (deleted), 0 (missing).
]]
--- @include "includes/subscribers"

if redis.call('hdel', all, name) == 0 then return 0 end
redis.call('sadd', deleted, name)
bump()
return 1
