--[[
  A read receipt's attempt ended. `sent` and `failed` end it (the hash stays until its idempotency
  window closes); `retry` waits until untilMs, the failure counted when `counts` is 1, and ends failed
  once the count reaches maxAttempts. Only the holder of the current lease (token `tok`) moves it.

    KEYS[1] receipt      hash, the receipt's state
    KEYS[2] receipts     zset, the channel's receipts
    ARGV[1] wamid
    ARGV[2] tok
    ARGV[3] outcome      sent|failed|retry
    ARGV[4] counts       1|0
    ARGV[5] untilMs
    ARGV[6] maxAttempts
    ARGV[7] errorJson
  Returns {'sent'|'failed'|'held'|'stale', failures}.
]]

local st = redis.call('HMGET', receipt, 's', 'tok', 'failures')
local failures = tonumber(st[3] or '0')
if st[1] ~= 'l' or st[2] ~= tok then return {'stale', failures} end
local ending = outcome
if outcome == 'retry' then
  if counts == '1' then failures = redis.call('HINCRBY', receipt, 'failures', 1) end
  if failures < tonumber(maxAttempts) then
    redis.call('HSET', receipt, 's', 'q')
    redis.call('HDEL', receipt, 'tok')
    redis.call('ZADD', receipts, untilMs, wamid)
    return {'held', failures}
  end
  ending = 'failed'
end
redis.call('ZREM', receipts, wamid)
redis.call('HSET', receipt, 's', ending)
redis.call('HDEL', receipt, 'tok')
if ending == 'failed' and errorJson ~= '' then redis.call('HSET', receipt, 'error', errorJson) end
return {ending, failures}
