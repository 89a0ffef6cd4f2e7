--[[
  A status for a wamid the relay has not recorded (apply-status answered unknown), kept as an orphan
  of its recipient (includes/reconcile); when the recipient waits on an unknown outcome and the orphan
  identifies its head message, that message is recorded sent at once. `to`: the recipient as queued
  (normalised recipient_id), or '' — `opaque`, when it names one of this partition's records, gives it.

    KEYS[1] state        the recipient's o:r:<to> (names the partition for Redis Cluster)
    ARGV[1] base         the partition's base
    ARGV[2] now          ms
    ARGV[3] recTtl       s
    ARGV[4] ch           channel
    ARGV[5] nowIso
    ARGV[6] to
    ARGV[7] wamid
    ARGV[8] opaque       biz_opaque_callback_data, or ''
    ARGV[9] seenAt       ms: when the ingress took it, or CBOT's own time of it if earlier
    ARGV[10] orphanTtl   s
    ARGV[11] wamidTtl    s
  Returns {'kept'|'known'|'none'} or {'reconciled_opaque'|'reconciled_recipient', id}.
]]
--- @include "includes/ready"
--- @include "includes/reconcile"

useChannel(ch)
if opaque ~= '' then
  local owner = redis.call('HMGET', krec(opaque), 'to', 'channel')
  if owner[1] and (owner[2] or 'default') == chId then to = owner[1] end
end
if to == '' then return {'none'} end
if wamidId(wamid, now, wamidTtl) then return {'known'} end
-- First seen: the first status parked for the wamid (apply-status), or seenAt, whichever is earliest.
local parked = redis.call('HGET', kwpend(wamid), 'h') or ''
local seen = tonumber(seenAt)
local first = tonumber(string.match(parked, '^%a+ (%d+)') or '')
if first and first < seen then seen = first end
local key = korph(to)
-- A later status of the same wamid can only make it older (CBOT's time of a redelivered callback).
local prev = redis.call('HGET', key, wamid)
local prevAt = prev and tonumber(string.match(prev, '^(%d+)'))
if not prevAt or seen < prevAt then
  if prev and opaque == '' then opaque = string.match(prev, '|(.*)$') or '' end
  redis.call('HSET', key, wamid, seen .. '|' .. opaque)
end
redis.call('EXPIRE', key, orphanTtl)
if redis.call('HLEN', key) > 32 then
  -- A busy recipient: forget orphans recorded since (their send was settled) or older than the TTL.
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local at = tonumber(string.match(all[i + 1], '^(%d+)') or '0')
    if at < tonumber(now) - tonumber(orphanTtl) * 1000 or wamidId(all[i], now, wamidTtl) then redis.call('HDEL', key, all[i]) end
  end
end
local st = redis.call('HMGET', kr(to), 's', 'rc')
if st[1] ~= 'held' or not st[2] then return {'kept'} end
local entry = redis.call('LINDEX', kq(to), 0)
if not entry or string.sub(entry, 2) ~= st[2] then return {'kept'} end
local r = redis.call('HMGET', krec(st[2]), 'status', 'inflight')
if r[1] ~= 'sending' or not r[2] then return {'kept'} end
local m = findOrphan(to, st[2], tonumber(r[2]))
if not m then return {'kept'} end
reconcileHead(to, entry, m)
redis.call('ZREM', HELD, to)
makeReady(to)
wake()
return {'reconciled_' .. m[2], st[2]}
