--[[
  Each subscriber change writes the hash, bumps the version and publishes the new version in one
  script, so a fanout that reads the version after a change also reads the change.
]]
local function bump()
  local v = redis.call('incr', version)
  redis.call('publish', channel, v)
end
