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
    ARGV[14] fallback     1|'': CBOT refused the free-form message for its window; the next attempt
                          sends the record's fallback template, once
    ARGV[15] pair         1|0: 131056, the pair rate limit
    ARGV[16] retryAfterMs or ''
  With pair 1 the hold is the recipient's own escalating wait instead of untilMs: {{PAIR_FIRST_MS}} ms,
  then doubling up to {{PAIR_MAX_MS}} ms (field `pr` of its state, reset by a send that goes
  through), or Retry-After when CBOT gave one.
  Returns {'held'|'failed'|'stale', failures, untilMs of the hold}.
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
if fallback == '1' and redis.call('HGET', rec, 'fb') == '1' then
  redis.call('HSET', rec, 'fb', '2')
  addHistory(rec, 'fallback', now)
end
if failures >= tonumber(maxAttempts) then
  endRecord(id, 'failed', '', '', errorJson, 0)
  advance(to, tok, entry)
  return {'failed', failures}
end
local holdUntil = tonumber(untilMs)
if pair == '1' and leaseHeld(to, tok) then
  local prev = tonumber(redis.call('HGET', kr(to), 'pr') or '0')
  local level = {{PAIR_FIRST_MS}}
  if prev > 0 then level = math.min(prev * 2, {{PAIR_MAX_MS}}) end
  redis.call('HSET', kr(to), 'pr', level)
  local ra = tonumber(retryAfterMs)
  if ra and ra > 0 then holdUntil = tonumber(now) + ra else holdUntil = tonumber(now) + level end
end
if hold(to, tok, holdUntil) then return {'held', failures, holdUntil} end
return {'stale', failures, holdUntil}
