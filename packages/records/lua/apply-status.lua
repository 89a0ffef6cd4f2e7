--[[
  A CBOT status callback for a wamid. Statuses only move forward. A status for a wamid the relay has
  not recorded yet is parked (with its times) and applied by the settle when the send is recorded.

    KEYS[1] wamidKey     the previous release's wamid → relay id key (includes/wamid; routes the call)
    KEYS[2] wpend        the channel's parked statuses for the wamid
    KEYS[3] dlq
    ARGV[1] base
    ARGV[2] status
    ARGV[3] now          ms
    ARGV[4] errorJson    or ''
    ARGV[5] pendTtl      s
    ARGV[6] recTtl       s
    ARGV[7] cbotAt       the callback's own timestamp (unix s) or ''
    ARGV[8] park         '0': do not park an unknown wamid's status (another partition may know it)
    ARGV[9] pricing      the status's pricing (includes/pricing.lua) or ''
    ARGV[10] ch          the channel
    ARGV[11] wamid
  Pricing goes on the record whatever the status's rank (a late `sent` may be the only one carrying
  it); parked with the status when the wamid is not recorded yet.
  Returns {'unknown'} | {'gone', id} | {'applied', id, caller counted|''} | {'ignored', id, caller counted|''}.
]]
--- @include "includes/keys"
--- @include "includes/history"
--- @include "includes/pricing"
--- @include "includes/wamid"

local rank = RANK[status]
useChannel(ch)
local id = wamidId(wamid, now, pendTtl)
if not id then
  if rank and rank >= 2 and park ~= '0' then
    local cur = redis.call('HGET', wpend, 'status')
    if not cur or RANK[cur] < rank then
      -- Each parked status with its times (`h`: "<status> <ms> <cbot s>;" …), for the record's history.
      local parked = redis.call('HGET', wpend, 'h') or ''
      redis.call('HSET', wpend, 'status', status, 'error', errorJson, 'h', parked .. status .. ' ' .. now .. ' ' .. (cbotAt or '') .. ';')
      redis.call('EXPIRE', wpend, pendTtl)
    end
  end
  if pricing ~= '' and park ~= '0' then
    redis.call('HSETNX', wpend, 'pr', pricing)
    redis.call('EXPIRE', wpend, pendTtl)
  end
  return {'unknown'}
end
local rec = krec(id)
local cur = redis.call('HGET', rec, 'status')
if not cur then return {'gone', id} end
local priced = applyPricing(rec, pricing, now) or ''
if rank and rank >= 2 and RANK[cur] and RANK[cur] >= 2 and rank > RANK[cur] then
  redis.call('HSET', rec, 'status', status, 'updatedAt', now)
  addHistory(rec, status, now, cbotAt)
  if errorJson ~= '' then redis.call('HSET', rec, 'error', errorJson) end
  if status == 'failed' then
    -- As includes/record's deadLetter: entries past the retention have no record left.
    redis.call('ZADD', dlq, now, id)
    redis.call('ZREMRANGEBYSCORE', dlq, '-inf', '(' .. (tonumber(now) - tonumber(recTtl) * 1000))
  end
  -- Delivered or read is final success: the body is no longer needed for a replay.
  if status == 'delivered' or status == 'read' then redis.call('DEL', kbody(id)) else redis.call('EXPIRE', kbody(id), recTtl) end
  redis.call('EXPIRE', rec, recTtl)
  return {'applied', id, priced}
end
return {'ignored', id, priced}
