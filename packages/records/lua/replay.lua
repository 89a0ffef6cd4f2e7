--[[
  A failed message back to 'queued' and onto its recipient's queue, in one step.

    KEYS[1] rec
    ARGV[1] base
    ARGV[2] now
    ARGV[3] recTtl
    ARGV[4] id
    ARGV[5] attemptJson
  Returns {'ok', to} | {'missing'} | {'not-failed', status} | {'no-body'}.
]]
--- @include "includes/record"
--- @include "includes/ready"

local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'channel')
useChannel(r[5])
if not r[1] then
  redis.call('ZREM', DLQ, id)
  return {'missing'}
end
if r[1] ~= 'failed' then return {'not-failed', r[1]} end
local body = redis.call('GET', kbody(id))
if not body then return {'no-body'} end
appendAttempt(rec, attemptJson)
redis.call('HSET', rec, 'status', 'queued', 'epoch', now, 'updatedAt', now, 'failures', '0', 'bytes', #body)
addHistory(rec, 'queued', now)
redis.call('HDEL', rec, 'error', 'inflight', 'expiresAt')
redis.call('HINCRBY', rec, 'replays', 1)
redis.call('EXPIRE', rec, recTtl)
redis.call('EXPIRE', kbody(id), recTtl)
redis.call('ZREM', DLQ, id)
redis.call('ZADD', OPEN, now, id)
redis.call('INCRBY', OPEN_BYTES, #body)
if enqueue(r[2], id, r[3] or 'n', r[4] or '-') then wake() end
return {'ok', r[2]}
