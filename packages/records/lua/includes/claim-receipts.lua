--[[
  The claim's read receipts (receipt-accept.lua): takeReceipts(limit) leases up to `limit` due ones
  before any recipient is picked, so a receipt never waits behind queued messages; the claim spends a
  send-rate token for each, as for a message. A leased receipt's score is its lease's end, so one
  whose worker died falls due again. One whose hash is gone (its 24 h window closed) or older than
  maxAgeMs is dropped. Needs the claim's `now` (a number), `leaseMs`, `maxAgeMs`, `fence`.
  Returns {jobs, dropped}: jobs {wamid, tok, typing 1|0, failures, acceptedAt, caller}; dropped
  {reason 'missing'|'max_age', wamid}.
]]
--- @include "includes/keys"

local function takeReceipts(limit)
  local jobs, dropped = {}, {}
  if limit <= 0 then return {jobs, dropped} end
  local due = redis.call('ZRANGEBYSCORE', RCPT, '-inf', now, 'LIMIT', 0, limit)
  for _, w in ipairs(due) do
    local h = kreceipt(w)
    local r = redis.call('HMGET', h, 'typing', 'failures', 'at', 'caller')
    if not r[3] then
      redis.call('ZREM', RCPT, w)
      dropped[#dropped + 1] = {'missing', w}
    elseif now - tonumber(r[3]) > tonumber(maxAgeMs) then
      redis.call('ZREM', RCPT, w)
      redis.call('HSET', h, 's', 'failed', 'error', '{"message":"gave up: older than the maximum age"}')
      redis.call('HDEL', h, 'tok')
      dropped[#dropped + 1] = {'max_age', w}
    else
      local tok = tostring(redis.call('INCR', fence))
      redis.call('HSET', h, 's', 'l', 'tok', tok)
      redis.call('ZADD', RCPT, now + tonumber(leaseMs), w)
      jobs[#jobs + 1] = {w, tok, r[1] or '0', r[2] or '0', r[3], r[4] or '-'}
    end
  end
  return {jobs, dropped}
end
