--[[
  WhatsApp failed a sent message for its customer-service window after the fact (a `failed` status
  callback with 131047 / 470): its fallback template goes instead, once, from the front of its
  recipient's queue — behind only a message already in flight or held for a retry there, which keeps
  its place at the head. Like a replay, the record moves from `failed` back to `queued`; the failed
  send's CBOT id stops naming it, so a redelivered copy of that callback changes nothing.

    KEYS[1] rec
    ARGV[1] base
    ARGV[2] now
    ARGV[3] recTtl
    ARGV[4] id
    ARGV[5] wamidTtl     s
  Returns {'ok', to} | {'skipped'} (no fallback, used already, or not failed).
]]
--- @include "includes/record"
--- @include "includes/ready"

local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'channel', 'fb')
if r[1] ~= 'failed' or r[6] ~= '1' then return {'skipped'} end
local body = redis.call('GET', kbody(id))
if not body then return {'skipped'} end
useChannel(r[5])
local to, p, c = r[2], r[3] or 'n', r[4] or '-'
local oldWamid = redis.call('HGET', rec, 'wamid')
if oldWamid then
  delWamid(oldWamid, now, wamidTtl)
  redis.call('HDEL', rec, 'wamid')
end
redis.call('HSET', rec, 'fb', '2', 'status', 'queued', 'epoch', now, 'updatedAt', now, 'failures', '0', 'bytes', #body)
addHistory(rec, 'fallback', now)
addHistory(rec, 'queued', now)
redis.call('HDEL', rec, 'error', 'inflight', 'expiresAt')
redis.call('EXPIRE', rec, recTtl)
redis.call('EXPIRE', kbody(id), recTtl)
redis.call('ZREM', DLQ, id)
redis.call('ZADD', OPEN, now, id)
redis.call('INCRBY', OPEN_BYTES, #body)
local q, st = kq(to), redis.call('HMGET', kr(to), 's', 'p')
local head = redis.call('LINDEX', q, 0)
if head and (st[1] == 'leased' or st[1] == 'held') then
  redis.call('LINSERT', q, 'AFTER', head, p .. id)
else
  redis.call('LPUSH', q, p .. id)
end
countChannel(1)
redis.call('HINCRBY', kr(to), p, 1)
countPending(c, p, 1)
if not st[1] then
  pushReady(to, p, c)
  wake()
elseif st[1] == 'ready' and PRIORITY_RANK[p] > PRIORITY_RANK[st[2]] then
  pushReady(to, p, c)
end
return {'ok', to}
