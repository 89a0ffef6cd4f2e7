--[[
  The accept's part for a scheduled message (X-Relay-Send-At; see includes/schedule for how it is
  promoted): scheduleRecord(f, id, due, now, recTtl) turns the record's fields `f` into a scheduled
  record's and returns its SCHED member and its TTL (the retention after its due time);
  parkScheduled(due, sm) puts it in SCHED instead of its recipient's queue.
  It counts in the backlog from its acceptance; the backlog index's score is its due time, so the
  oldest-open age measures how late a message is, not how far ahead it was scheduled. Its age for
  DISPATCH_MAX_AGE_S (`epoch`) counts from its due time.
]]
--- @include "includes/queue"

local function scheduleRecord(f, id, due, now, recTtl)
  local sm = string.format('%016d', redis.call('INCR', SEQ)) .. '|' .. id
  f[8] = 'scheduled'
  f[16] = 'w0'
  for _, v in ipairs({'due', due, 'epoch', due, 'sm', sm}) do f[#f + 1] = v end
  return sm, tonumber(recTtl) + math.ceil((due - tonumber(now)) / 1000)
end

local function parkScheduled(due, sm)
  redis.call('ZADD', SCHED, due, sm)
  countChannel(1)
end
