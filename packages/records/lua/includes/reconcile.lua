--[[
  Reconciling an attempt whose outcome is unknown (docs/resilience.md, "No double message:
  reconciliation"). Needs the locals `now`, `nowIso`, `wamidTtl`.

  - korph(to)  hash: statuses for recipient `to` whose wamid the relay has not recorded ("orphans"),
               field wamid → `<first seen, ms>|<biz_opaque_callback_data>`. First seen (the ingress's
               clock, or CBOT's) is compared with the attempt's stamp (the dispatcher's): the
               relay's hosts keep their clocks in step (NTP).
  - record field `rcw`: when the current wait for a status began (ms); o:r:<to> field `rc`: the id
    of the head message the held recipient waits for.
]]
--- @include "includes/record"
--- @include "includes/queue"

-- An orphan status that identifies head message id, whose unknown attempts began at stampMs:
-- {wamid, 'opaque'} when it carries the id in biz_opaque_callback_data; else {wamid, 'recipient'}
-- for the earliest one first seen after stampMs that names no other relay message; else nil.
local function findOrphan(to, id, stampMs)
  local key = korph(to)
  local all = redis.call('HGETALL', key)
  local best, bestAt
  for i = 1, #all, 2 do
    local wamid, v = all[i], all[i + 1]
    if wamidId(wamid, now, wamidTtl) then
      redis.call('HDEL', key, wamid)
    else
      local sep = string.find(v, '|', 1, true) or (#v + 1)
      local at, opaque = tonumber(string.sub(v, 1, sep - 1)) or 0, string.sub(v, sep + 1)
      if opaque == id then return {wamid, 'opaque'} end
      if at >= stampMs and (opaque == '' or redis.call('EXISTS', krec(opaque)) == 0) and (not bestAt or at < bestAt) then
        best, bestAt = wamid, at
      end
    end
  end
  if best then return {best, 'recipient'} end
  return nil
end

-- The head entry of `to` is recorded sent with the orphan's wamid (the statuses parked for it
-- applied, as for any settle) and leaves the queue; m is findOrphan's answer.
local function reconcileHead(to, entry, m)
  local id = string.sub(entry, 2)
  local how = 'its id in biz_opaque_callback_data'
  if m[2] == 'recipient' then how = 'a status for its recipient with a wamid the relay had not seen' end
  local a = '{"at":"' .. nowIso .. '","outcome":"reconciled","detail":"CBOT took an attempt whose answer was lost (' .. m[1] .. '): identified by ' .. how .. '; not sent again"}'
  endRecord(id, 'sent', a, m[1], '', wamidTtl)
  redis.call('HDEL', krec(id), 'rcw')
  redis.call('HDEL', korph(to), m[1])
  popHead(to, entry)
end
