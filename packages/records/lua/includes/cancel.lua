--[[
  cancelOne(id, who): cancels one message not yet handed to CBOT (DELETE /v1/messages/{id}, POST
  /v1/messages/cancel). `who` is the caller it must belong to ('' for any). Returns 'ok' (canceled
  now), 'missing' (no such record, or another caller's) or the status that cannot be canceled.
  Atomic with the claim: a message the claim took is `sending` and stays so; one canceled here is
  skipped by every later claim.

  A campaign is canceled 1,000 at a time, so this is lean: the shared counters (per channel, per
  caller and priority, backlog bytes) are summed in the call and written once by cancelFlush(), which
  every script using cancelOne calls before it returns. Needs `base`, `now`, `recTtl`.
]]
--- @include "includes/keys"
--- @include "includes/history"

local cxChannel, cxPending, cxBytes = {}, {}, 0
local function cancelOne(id, who)
  local rec = krec(id)
  local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'channel', 'sm', 'bytes', 'createdAt', 'hist')
  if not r[1] or (who ~= '' and r[4] ~= who) then return 'missing' end
  if r[1] ~= 'scheduled' and r[1] ~= 'queued' then return r[1] end
  local ch = r[5]
  if not ch or ch == '' then ch = 'default' end
  local chb = base
  if ch ~= 'default' then chb = base .. ':c:' .. ch end
  local p = r[3] or 'n'
  local counted = false
  if r[1] == 'scheduled' then
    redis.call('ZREM', chb .. ':o:sched', r[6] or '')
    counted = true
  else
    -- Off its recipient's queue: usually its head (a campaign is canceled in acceptance order), else
    -- found among the first 1,000 entries. Deeper in a long queue it stays as a tombstone that the
    -- claim drops (a `canceled` head is never sent), and the queue's counts go with it then.
    local q, e = chb .. ':o:q:' .. r[2], p .. id
    local removed = false
    if redis.call('LINDEX', q, 0) == e then
      redis.call('LPOP', q)
      removed = true
    elseif redis.call('LPOS', q, e, 'MAXLEN', 1000) then
      removed = redis.call('LREM', q, 1, e) == 1
    end
    if removed then
      counted = true
      local state = chb .. ':o:r:' .. r[2]
      redis.call('HINCRBY', state, p, -1)
      local f = (r[4] or '-') .. '|' .. p
      cxPending[f] = (cxPending[f] or 0) + 1
      -- Nothing left: the recipient is forgotten, so the claim skips its ready entry without a look.
      if redis.call('LLEN', q) == 0 and redis.call('HGET', state, 's') == 'ready' then redis.call('DEL', state) end
    end
  end
  if counted then cxChannel[ch] = (cxChannel[ch] or 0) + 1 end
  if redis.call('ZREM', OPEN, id) == 1 then cxBytes = cxBytes + tonumber(r[7] or '0') end
  local t = tonumber(now)
  local h = r[9] or ''
  if #h <= {{HISTORY_MAX_CHARS}} then
    local e = HIST_CODE['canceled'] .. b36(t - tonumber(r[8] or t))
    if h ~= '' then h = h .. ',' .. e else h = e end
  end
  redis.call('HSET', rec, 'status', 'canceled', 'updatedAt', now, 'hist', h)
  markDirty(rec, t)
  redis.call('EXPIRE', rec, recTtl)
  redis.call('DEL', kbody(id))
  return 'ok'
end

local function cancelFlush()
  for ch, n in pairs(cxChannel) do
    if redis.call('HINCRBY', CHANNELS, ch, -n) <= 0 then redis.call('HDEL', CHANNELS, ch) end
  end
  for f, n in pairs(cxPending) do
    if redis.call('HINCRBY', PENDING, f, -n) <= 0 then redis.call('HDEL', PENDING, f) end
  end
  if cxBytes > 0 then redis.call('DECRBY', OPEN_BYTES, cxBytes) end
  cxChannel, cxPending, cxBytes = {}, {}, 0
end
