--[[
  One slice of a cancel by tag: the tag index's entries after the cursor (score, id), at most `limit`,
  each canceled if it is still scheduled or queued (includes/cancel.lua). Each slice is atomic with
  the claims, so a message either was claimed before its slice (and is not counted) or is canceled and
  never sent.

    KEYS[1] index        the tag's index (ix:g:<caller>:<tag>)
    ARGV[1] base         the partition's base
    ARGV[2] now          ms
    ARGV[3] recTtl       s
    ARGV[4] afterScore   the cursor's score ('0' from the start)
    ARGV[5] afterId      the cursor's id ('' from the start)
    ARGV[6] limit        entries to walk
  Returns {canceled, lastScore, lastId, 1|0 done}.
]]
--- @include "includes/cancel"

local from, fromId, max = tonumber(afterScore), afterId, tonumber(limit)
local canceled, looked, lastScore, lastId = 0, 0, afterScore, afterId
local offset = 0
while looked < max do
  local page = redis.call('ZRANGEBYSCORE', index, from, '+inf', 'WITHSCORES', 'LIMIT', offset, 500)
  if #page == 0 then
    cancelFlush()
    return {canceled, lastScore, lastId, 1}
  end
  for i = 1, #page, 2 do
    local id, sc = page[i], tonumber(page[i + 1])
    -- Entries at the cursor's own score sort by id: those up to the cursor's were done already.
    if sc > from or id > fromId then
      if cancelOne(id, '') == 'ok' then canceled = canceled + 1 end
      looked = looked + 1
      lastScore, lastId = page[i + 1], id
      if looked >= max then break end
    end
  end
  if #page < 1000 and looked < max then
    cancelFlush()
    return {canceled, lastScore, lastId, 1}
  end
  offset = offset + 500
end
cancelFlush()
return {canceled, lastScore, lastId, 0}
