--[[
  take(to, ended): leases `to` for its head message, ending heads that can no longer be sent
  (expired, too old, body gone, record missing; each added to `ended` as {reason, id}). Returns the
  job {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt (a scheduled message's: its due time),
  caller, fb}, or false when none is
  left. Needs the claim's `now` (a number), `nowIso`, `leaseMs`, `maxAgeMs`, `fence`, `ambiguous`.
]]
--- @include "includes/ready"
--- @include "includes/record"
--- @include "includes/rules"

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
  -- A scheduled message's wait counts from its due time.
  return {to, tok, entry, body, amb, r[5] or '0', r[10] or r[6], r[7] or '-', r[9] or ''}
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
    local r = redis.call('HMGET', rec, 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt', 'caller', 'type', 'fb', 'due')
    local reason = nil
    if not r[1] then reason = 'missing'
    elseif r[1] ~= 'queued' and r[1] ~= 'sending' then reason = 'done'
    elseif r[2] and tonumber(r[2]) <= now then reason = 'expired'
    elseif now - tonumber(r[3] or r[6]) > tonumber(maxAgeMs) then reason = 'max_age'
    else
      local body = redis.call('GET', kbody(id))
      local rule = body and headRule(rec, to, r[8], r[9], wpol)
      if not body then
        reason = 'no_body'
      elseif rule == 'opted_out' or rule == 'window' then
        reason = rule
      else
        if rule == 'fallback' then r[9] = '2' end
        return lease(to, entry, id, rec, r, body)
      end
    end
    popHead(to, entry)
    if reason == 'expired' then
      endRecord(id, 'expired', attempt('expired'), '', '', 0)
    elseif reason == 'max_age' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: message older than the maximum age"}', 0)
    elseif reason == 'no_body' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: the message body is no longer stored (RECORD_TTL_S passed)"}', 0)
    elseif reason == 'opted_out' then
      endRecord(id, 'failed', '', '', '{"code":"recipient_opted_out","message":"the recipient opted out on this channel"}', 0)
    elseif reason == 'window' then
      endRecord(id, 'failed', '', '', '{"code":"outside_customer_service_window","message":"the customer-service window closed before the message could be sent"}', 0)
    end
    if reason ~= 'done' then ended[#ended + 1] = {reason, id} end
  end
  -- Many ended heads in a row: leave the rest to the next claim.
  makeReady(to)
  return false
end
