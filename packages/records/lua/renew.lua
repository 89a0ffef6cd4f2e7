--[[
  Keeps a lease alive while its holder retries writing CBOT's answer: the lease's expiry moves to
  `untilMs` if `tok` still holds it. Run with the flag allow-oom (Outbound adds the flags line), so
  Redis runs it at maxmemory too: it only rewrites the score of a member that exists, and a lapsed
  lease would mean a second send.

    KEYS[1] leases       the channel's o:leases
    KEYS[2] state        the recipient's o:r:<to>
    ARGV[1] to
    ARGV[2] tok
    ARGV[3] untilMs
  Returns 1 renewed, 0 the lease had moved on.
]]
local st = redis.call('HMGET', state, 's', 'tok')
if st[1] ~= 'leased' or st[2] ~= tok then return 0 end
redis.call('ZADD', leases, 'XX', untilMs, to)
return 1
