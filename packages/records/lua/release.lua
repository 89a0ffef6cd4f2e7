--[[
  A lease given back unused (the worker could not send in time): the recipient is ready again with
  its head in place. The in-flight stamp the claim set goes too, unless an earlier attempt's answer
  was lost (keepInflight 1): then the next send is still a possible resend.

    KEYS[1] rec
    KEYS[2] state
    ARGV[1] base
    ARGV[2] now
    ARGV[3] recTtl
    ARGV[4] ch
    ARGV[5] to
    ARGV[6] tok
    ARGV[7] entry
    ARGV[8] keepInflight 1|0
  Returns {1|0 released}.
]]
--- @include "includes/lease"

useChannel(ch)
if not leaseHeld(to, tok) then return {0} end
if keepInflight ~= '1' and redis.call('HGET', rec, 'status') == 'sending' then redis.call('HDEL', rec, 'inflight') end
redis.call('ZREM', LEASES, to)
makeReady(to)
return {1}
