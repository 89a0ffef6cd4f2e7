--[[
  Accepts messages, one per row, each its own atomic step: the record, the body, the indexes, the
  backlog and the recipient's queue, with the Idempotency-Key and the backlog bounds (exact: the
  count and the bytes are read and written in the same step). A batch script (defineBatchScript):
  this body runs once per row; the includes once per call.

  Per row:
    KEYS[1] rec          hash, the record
    KEYS[2] idem         the Idempotency-Key (`idem:-` when none)
    KEYS[3] bodyKey      string, the body
    ARGV[1] id
    ARGV[2] to           the recipient, normalised
    ARGV[3] mtype        the message type
    ARGV[4] caller
    ARGV[5] p            priority h|n|b
    ARGV[6] expiresAt    ms or ''
    ARGV[7] fingerprint  of the body, or '' (no Idempotency-Key)
    ARGV[8] body
    ARGV[9] tp           traceparent or '' (kept as the record's `tp`)
    ARGV[10] ch          channel
  Shared by the rows:
    SHARED[1] base
    SHARED[2] now
    SHARED[3] recTtl
    SHARED[4] idemTtl
    SHARED[5] backlogMax
    SHARED[6] backlogMaxBytes
  Returns per row {'created'|'duplicate'|'conflict', id} or {'full', 'count'|'bytes'}.
]]
--- @include "includes/ready"
--- @include "includes/accept-once"

useChannel(ch)
local prev = earlier(idem, fingerprint)
if prev then return prev end
backlogNow()
if openCount >= tonumber(backlogMax) then return {'full', 'count'} end
local maxBytes = tonumber(backlogMaxBytes)
if maxBytes > 0 and openBytes + #body > maxBytes then return {'full', 'bytes'} end
-- The record first: it is the one write a stray key of another type can make fail, and a failure
-- here leaves nothing behind (Lua does not roll back what ran before an error).
local f = {'to', to, 'type', mtype, 'caller', caller, 'status', 'queued', 'createdAt', now, 'priority', p, 'bytes', #body, 'hist', 'q0', 'channel', chId}
if expiresAt ~= '' then f[#f + 1] = 'expiresAt'; f[#f + 1] = expiresAt end
if tp ~= '' then f[#f + 1] = 'tp'; f[#f + 1] = tp end
redis.call('HSET', rec, unpack(f))
redis.call('EXPIRE', rec, recTtl)
redis.call('SET', bodyKey, body, 'EX', recTtl)
indexMessage(id, caller, to)
openCount = openCount + redis.call('ZADD', OPEN, now, id)
openBytes = redis.call('INCRBY', OPEN_BYTES, #body)
if fingerprint ~= '' then redis.call('SET', idem, fingerprint .. '|' .. id, 'EX', idemTtl) end
if enqueue(to, id, p, caller) then wakeOnce() end
return {'created', id}
