--[[
  Cancels one message not yet handed to CBOT (includes/cancel.lua), in one step with the claims.

    KEYS[1] rec          the record (routes the call to its slot)
    ARGV[1] base         the partition's base
    ARGV[2] now          ms
    ARGV[3] recTtl       s
    ARGV[4] id
    ARGV[5] who          the caller it must belong to; '' for an admin
  Returns {'ok'|'missing'|<the status that cannot be canceled>}.
]]
--- @include "includes/cancel"

local answer = cancelOne(id, who)
cancelFlush()
return {answer}
