--[[
  An inbound message from a recipient (src/recipients.ts): the newest inbound message's time, never
  moved back (a redelivered old callback must not shorten the window); the key lives until that time
  + ttl, or for good while the recipient is opted out. The channel's tracking mark is set the first time.

    KEYS[1] w            the recipient's rules hash (ChannelKeys.recipientRules)
    KEYS[2] track        the channel's tracking mark (ChannelKeys.rulesTracked)
    ARGV[1] at           the message's time, unix s (clamped to now by the caller)
    ARGV[2] now          ms
    ARGV[3] ttl          s after `at`
  Returns 1 when it moved lastInboundAt forward, else 0.
]]
local cur = tonumber(redis.call('HGET', w, 'in') or '0')
local ts = tonumber(at)
local moved = 0
if ts > cur then
  redis.call('HSET', w, 'in', at)
  cur = ts
  moved = 1
end
if redis.call('HEXISTS', w, 'opt') == 0 then redis.call('EXPIREAT', w, cur + tonumber(ttl)) end
redis.call('SET', track, now, 'NX')
return moved
