--[[
  Queues a read receipt (with the typing indicator when asked) for the inbound CBOT message `wamid`,
  once per wamid for `ttl` seconds: the receipt's hash is created with that TTL (its existence is the
  idempotency) and the wamid goes on the channel's receipts zset, due now. The claim serves receipts
  before any recipient's messages (includes/claim-receipts.lua); idle dispatchers are woken.

    KEYS[1] receipt      hash, the receipt's state
    KEYS[2] receipts     zset, the channel's receipts
    ARGV[1] base         the partition's base
    ARGV[2] now          ms
    ARGV[3] wamid
    ARGV[4] typing       1|0
    ARGV[5] caller
    ARGV[6] ttl          s, the idempotency window
    ARGV[7] max          most receipts waiting on the channel in this partition
  Returns 'created', 'duplicate' (within the window: nothing more is sent) or 'full'.

  The hash (short names, persisted): `s` q (waiting) | l (leased) | sent | failed, `tok` the lease's
  fencing token, `typing` 1|0, `caller`, `at` accepted (ms), `failures`, `error` (JSON, when failed).
]]
--- @include "includes/queue"

if redis.call('EXISTS', receipt) == 1 then return 'duplicate' end
if redis.call('ZCARD', receipts) >= tonumber(max) then return 'full' end
redis.call('HSET', receipt, 's', 'q', 'typing', typing, 'caller', caller, 'at', now, 'failures', 0)
redis.call('EXPIRE', receipt, ttl)
redis.call('ZADD', receipts, now, wamid)
wake()
return 'created'
