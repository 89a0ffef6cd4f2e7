--[[
  Opt a recipient out (op 'out') or back in ('in') at `at` (ms: the keyword message's own time, or now
  for the admin API). A change older than the last one applied is ignored, so a redelivered STOP cannot
  undo a later START.

    KEYS[1] w            the recipient's rules hash (ChannelKeys.recipientRules)
    KEYS[2] idx          the channel's opt-out index in the partition (ChannelKeys.optOuts)
    ARGV[1] op           out|in
    ARGV[2] at           ms
    ARGV[3] to           the recipient
    ARGV[4] ttl          s: how long the hash lives after an opt-in
  Returns 1 when the state changed, else 0.
]]
local last = tonumber(redis.call('HGET', w, 'oat') or '0')
if tonumber(at) < last then return 0 end
redis.call('HSET', w, 'oat', at)
local had = redis.call('HEXISTS', w, 'opt')
if op == 'out' then
  redis.call('PERSIST', w)
  redis.call('ZADD', idx, 0, to)
  if had == 1 then return 0 end
  redis.call('HSET', w, 'opt', at)
  return 1
end
redis.call('ZREM', idx, to)
redis.call('HDEL', w, 'opt')
redis.call('EXPIRE', w, ttl)
return had
