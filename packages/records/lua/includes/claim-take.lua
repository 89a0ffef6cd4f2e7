--[[
  take(to, ended): leases `to` for its head message, ending heads that can no longer be sent
  (expired, too old, body gone, record missing, WhatsApp's rules; each added to `ended` as {reason,
  id}). A head whose last attempt's outcome is unknown is reconciled first (includes/reconcile):
  recorded sent when a status identifies it ({'reconciled_opaque'|'reconciled_recipient', id}), else
  its recipient waits up to `reconcileMs` (past it, while `appliedUpTo` lags, up to ten windows).
  Returns the job {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt (a scheduled message's:
  its due time), caller, fb}, or false when none is left or the recipient waits.
]]
--- @include "includes/ready"
--- @include "includes/record"
--- @include "includes/rules"
--- @include "includes/reconcile-wait"
--- @include "includes/claim-lease"

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
    local r = redis.call('HMGET', rec, 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt', 'caller', 'type', 'fb', 'due', 'rcw')
    local reason = nil
    if not r[1] then reason = 'missing'
    elseif r[1] ~= 'queued' and r[1] ~= 'sending' then reason = 'done'
    elseif r[2] and tonumber(r[2]) <= now then reason = 'expired'
    elseif now - tonumber(r[3] or r[6]) > tonumber(maxAgeMs) then reason = 'max_age'
    else
      local body = redis.call('GET', kbody(id))
      local m = nil
      if body and r[4] then
        m = unknownOutcome(to, id, rec, r)
        if m == 'wait' then return false end
      end
      local rule = body and not m and headRule(rec, to, r[8], r[9], wpol)
      if m then
        reconcileHead(to, entry, m)
        ended[#ended + 1] = {'reconciled_' .. m[2], id}
        reason = 'reconciled'
      elseif not body then
        reason = 'no_body'
      elseif rule == 'opted_out' or rule == 'window' then
        reason = rule
      else
        if rule == 'fallback' then r[9] = '2' end
        return lease(to, entry, id, rec, r, body)
      end
    end
    if reason ~= 'reconciled' then popHead(to, entry) end
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
    if reason ~= 'done' and reason ~= 'reconciled' then ended[#ended + 1] = {reason, id} end
  end
  -- Many ended heads in a row: leave the rest to the next claim.
  makeReady(to)
  return false
end
