--[[
  A leased message's attempt ended for good: sent (with its wamid), failed (with errorJson) or
  expired. The record moves whoever holds the lease (it is the truth about the message); the queue
  moves only for the current lease holder.

    KEYS[1] rec          the record (declared so Redis Cluster routes the call)
    KEYS[2] state        the recipient's state hash
    ARGV[1] base
    ARGV[2] now
    ARGV[3] recTtl
    ARGV[4] ch
    ARGV[5] to
    ARGV[6] tok
    ARGV[7] entry
    ARGV[8] outcome      sent|failed|expired
    ARGV[9] attemptJson  or ''
    ARGV[10] wamid       or ''
    ARGV[11] errorJson   or ''
    ARGV[12] wamidTtl    s
  Returns {record outcome 'ok'|'closed'|'missing', 1|0 queue advanced}.
]]
--- @include "includes/record"
--- @include "includes/lease"

useChannel(ch)
local recorded = endRecord(string.sub(entry, 2), outcome, attemptJson, wamid, errorJson, wamidTtl)
local moved = advance(to, tok, entry)
return {recorded, moved and 1 or 0}
