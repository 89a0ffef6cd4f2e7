--[[
  CBOT throttled the sender: every claim on the channel waits `ms`. Extends a pause, never shortens one.

    KEYS[1] pause        the channel's gate:pause
    ARGV[1] ms
  Returns 1.
]]
if redis.call('PTTL', pause) < tonumber(ms) then redis.call('SET', pause, '1', 'PX', ms) end
return 1
