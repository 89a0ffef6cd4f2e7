--[[
  The history writer copied these records to PostgreSQL: each leaves the dirty set unless it changed
  again meanwhile (its score moved past the mark the writer read), so no change is dropped.

    KEYS[1] dirty        the partition's history dirty set
    ARGV[1] entries      `<id> <mark>` pairs, one per line
  Returns the number of entries removed.
]]
local removed = 0
for id, mark in string.gmatch(entries, '(%S+) (%S+)') do
  if redis.call('ZSCORE', dirty, id) == mark then removed = removed + redis.call('ZREM', dirty, id) end
end
return removed
