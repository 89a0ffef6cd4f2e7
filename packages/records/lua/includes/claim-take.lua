--[[
  take(to, ended): leases `to` for its head message, ending heads that can no longer be sent
  (expired, too old, body gone, record missing; each added to `ended` as {reason, id}). Returns the
  job {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt, caller}, or false when none is
  left. Needs the claim's `now` (a number), `nowIso`, `leaseMs`, `maxAgeMs`, `fence`, `ambiguous`.
]]
--- @include "includes/ready"
--- @include "includes/record"

local function attempt(outcome) return '{"at":"' .. nowIso .. '","outcome":"' .. outcome .. '"}' end

-- The head message `id` is sent now: stamped in flight, the recipient leased under a fresh token.
local function lease(to, entry, id, rec, r, body)
  if r[1] ~= 'sending' then addHistory(rec, 'sending', now) end
  redis.call('HSET', rec, 'status', 'sending', 'inflight', now, 'updatedAt', now)
  local amb = 0
  if r[4] then
    amb = 1
    redis.call('HINCRBY', rec, 'resends', 1)
    redis.call('INCR', ambiguous)
  end
  local tok = tostring(redis.call('INCR', fence))
  redis.call('HSET', kr(to), 's', 'leased', 'tok', tok)
  redis.call('ZADD', LEASES, now + tonumber(leaseMs), to)
  return {to, tok, entry, body, amb, r[5] or '0', r[6], r[7] or '-'}
end

local function take(to, ended)
  local q = kq(to)
  for _ = 1, 50 do
    local entry = redis.call('LINDEX', q, 0)
    if not entry then
      redis.call('DEL', kr(to))
      return false
    end
    local id = string.sub(entry, 2)
    local rec = krec(id)
    local r = redis.call('HMGET', rec, 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt', 'caller')
    local reason = nil
    if not r[1] then reason = 'missing'
    elseif r[1] ~= 'queued' and r[1] ~= 'sending' then reason = 'done'
    elseif r[2] and tonumber(r[2]) <= now then reason = 'expired'
    elseif now - tonumber(r[3] or r[6]) > tonumber(maxAgeMs) then reason = 'max_age'
    else
      local body = redis.call('GET', kbody(id))
      if body then return lease(to, entry, id, rec, r, body) end
      reason = 'no_body'
    end
    popHead(to, entry)
    if reason == 'expired' then
      endRecord(id, 'expired', attempt('expired'), '', '', 0)
    elseif reason == 'max_age' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: message older than the maximum age"}', 0)
    elseif reason == 'no_body' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: the message body is no longer stored (RECORD_TTL_S passed)"}', 0)
    end
    if reason ~= 'done' then ended[#ended + 1] = {reason, id} end
  end
  -- Many ended heads in a row: leave the rest to the next claim.
  makeReady(to)
  return false
end
