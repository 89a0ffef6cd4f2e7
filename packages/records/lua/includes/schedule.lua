--[[
  Scheduled messages (X-Relay-Send-At). A scheduled message waits in its channel's `o:sched` zset
  (SCHED; status `scheduled`, not in its recipient's queue, so it holds nothing back) and is promoted
  into the queue when due, at its place in (due time, acceptance) order: after every entry due
  earlier, and before immediate messages accepted after its due time (they are only there when the
  promotion ran late). It never goes before a head that is in flight, held or leased. A record's due
  time is its `due` field, else its `createdAt`. Needs `base`, `now`, `recTtl`.
]]
--- @include "includes/ready"
--- @include "includes/history"

-- Message id (priority p, caller c, due at `due`) into `to`'s queue at its (due, acceptance) place.
local function enqueueDue(to, id, p, c, due)
  local q, r = kq(to), kr(to)
  local st = redis.call('HMGET', r, 's', 'p')
  local len = redis.call('LLEN', q)
  local floor = 0
  if st[1] == 'leased' or st[1] == 'held' then floor = 1 end
  local pos = len
  -- Walk back from the tail past later-due entries (few: those accepted while the promotion was late).
  for _ = 1, 1000 do
    if pos <= floor then break end
    local e = redis.call('LINDEX', q, pos - 1)
    local f = redis.call('HMGET', krec(string.sub(e, 2)), 'createdAt', 'due', 'status')
    if f[3] == 'sending' then break end
    local d = tonumber(f[2] or f[1] or '0')
    -- An earlier promoted one due at the same time was accepted first; an immediate one was accepted at `d`.
    if d < due or (d == due and f[2]) then break end
    pos = pos - 1
  end
  if pos >= len then redis.call('RPUSH', q, p .. id)
  else redis.call('LINSERT', q, 'BEFORE', redis.call('LINDEX', q, pos), p .. id) end
  redis.call('HINCRBY', r, p, 1)
  countPending(c, p, 1)
  if not st[1] then
    pushReady(to, p, c)
    return
  end
  -- A new head (or a higher priority) changes what the ready entry stands for.
  if st[1] == 'ready' and (pos == 0 or PRIORITY_RANK[p] > PRIORITY_RANK[st[2]]) then makeReady(to) end
end

-- Scheduled messages due by now into their recipients' queues, in (due, acceptance) order; at most
-- `max` per call (the rest are due at once, so the claim's wait says 1 ms).
local function promoteScheduled(max)
  local due = redis.call('ZRANGEBYSCORE', SCHED, '-inf', now, 'LIMIT', 0, max)
  for _, m in ipairs(due) do
    redis.call('ZREM', SCHED, m)
    local id = string.sub(m, (string.find(m, '|', 1, true) or 0) + 1)
    local rec = krec(id)
    local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'due')
    if r[1] == 'scheduled' then
      redis.call('HSET', rec, 'status', 'queued', 'updatedAt', now)
      addHistory(rec, 'queued', now)
      enqueueDue(r[2], id, r[3] or 'n', r[4] or '-', tonumber(r[5] or now))
    elseif not r[1] then
      -- The record is gone (it cannot expire before its due time plus the retention; a flush did it).
      countChannel(-1)
      redis.call('ZREM', OPEN, id)
    end
  end
end
