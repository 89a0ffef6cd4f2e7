--[[
  A leased message's attempt will be retried: the attempt is recorded, the failure counted when
  `counts` is 1, and the recipient held until `untilMs` with the message still at its head — unless
  the count reaches maxAttempts, when the message ends failed (with errorJson) and the queue moves on.

    KEYS[1] rec
    KEYS[2] state
    ARGV[1] base
    ARGV[2] now
    ARGV[3] recTtl
    ARGV[4] ch
    ARGV[5] to
    ARGV[6] tok
    ARGV[7] entry
    ARGV[8] attemptJson
    ARGV[9] counts        1|0
    ARGV[10] keepInflight 1|0
    ARGV[11] untilMs
    ARGV[12] maxAttempts
    ARGV[13] errorJson
  Returns {'held'|'failed'|'stale', failures}.
]]
--- @include "includes/record"
--- @include "includes/lease"

useChannel(ch)
local id = string.sub(entry, 2)
if not redis.call('HGET', rec, 'status') then
  advance(to, tok, entry)
  return {'stale', 0}
end
appendAttempt(rec, attemptJson)
if keepInflight ~= '1' then redis.call('HDEL', rec, 'inflight') end
redis.call('HSET', rec, 'updatedAt', now)
local failures
if counts == '1' then failures = redis.call('HINCRBY', rec, 'failures', 1)
else failures = tonumber(redis.call('HGET', rec, 'failures') or '0') end
if failures >= tonumber(maxAttempts) then
  endRecord(id, 'failed', '', '', errorJson, 0)
  advance(to, tok, entry)
  return {'failed', failures}
end
if hold(to, tok, tonumber(untilMs)) then return {'held', failures} end
return {'stale', failures}
