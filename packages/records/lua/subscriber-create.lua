--[[
  Adds a subscriber unless one of that name exists.

    KEYS[1] all          hash name → JSON record
    KEYS[2] deleted      set of names deleted by the API
    KEYS[3] version      counter
    ARGV[1] name
    ARGV[2] json
    ARGV[3] channel      Pub/Sub channel for the new version
    ARGV[4] seed         '0': always; '1': only when never deleted by the API; 'empty': only when the list is empty too
  Returns 1 (created), 0 (exists), -1 (not seeded).
]]
--- @include "includes/subscribers"

if redis.call('hexists', all, name) == 1 then return 0 end
if seed ~= '0' and redis.call('sismember', deleted, name) == 1 then return -1 end
if seed == 'empty' and redis.call('hlen', all) > 0 then return -1 end
redis.call('hset', all, name, json)
redis.call('srem', deleted, name)
bump()
return 1
