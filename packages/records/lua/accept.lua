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
    ARGV[11] wpol        the channel's window policy: e(nforce), w(arn), o(ff)
    ARGV[12] fb          '1' when the body carries a `fallback` template, else ''
    ARGV[13] dueAt       X-Relay-Send-At in ms, or '': a time after `now` makes the message `scheduled`
    ARGV[14] tag         X-Relay-Tag, or ''
  Shared by the rows:
    SHARED[1] base
    SHARED[2] now
    SHARED[3] recTtl
    SHARED[4] idemTtl
    SHARED[5] backlogMax
    SHARED[6] backlogMaxBytes
  Returns per row {'created'|'duplicate'|'conflict', id, window (o|c|u)}, {'full', 'count'|'bytes'},
  {'optout', optedOutAt} (the recipient opted out) or {'window', lastInboundAt|''} (a free-form
  message, window closed, policy enforce, no fallback); the last two write nothing.
  A scheduled message: see includes/accept-schedule.
]]
--- @include "includes/ready"
--- @include "includes/accept-once"
--- @include "includes/rules"
--- @include "includes/accept-schedule"

useChannel(ch)
local win, lastIn, opt = recipientRules(to)
local due = tonumber(dueAt)
if due and due <= tonumber(now) then due = nil end
local prev = earlier(idem, fingerprint)
if prev then
  prev[3] = win
  return prev
end
local refused, useFb = acceptRule(mtype, wpol, fb, win, lastIn, opt)
if refused then return refused end
backlogNow()
if openCount >= tonumber(backlogMax) then return {'full', 'count'} end
local maxBytes = tonumber(backlogMaxBytes)
if maxBytes > 0 and openBytes + #body > maxBytes then return {'full', 'bytes'} end
-- The record first: it is the one write a stray key of another type can make fail, and a failure
-- here leaves nothing behind (Lua does not roll back what ran before an error). Channel `default` is
-- not written: every reader, an older release's too, takes a missing one for it.
local f = {'to', to, 'type', mtype, 'caller', caller, 'status', 'queued', 'createdAt', now, 'priority', p, 'bytes', #body, 'hist', 'q0'}
for _, kv in ipairs({ {'channel', chId ~= 'default' and chId or ''}, {'expiresAt', expiresAt}, {'tp', tp}, {'tag', tag} }) do
  if kv[2] ~= '' then f[#f + 1] = kv[1]; f[#f + 1] = kv[2] end
end
if fb == '1' then f[#f + 1] = 'fb'; f[#f + 1] = useFb and '2' or '1' end
local ttl, sm = recTtl, nil
if due then sm, ttl = scheduleRecord(f, id, due, now, recTtl) end
redis.call('HSET', rec, unpack(f))
if useFb then addHistory(rec, 'fallback', now) end
redis.call('EXPIRE', rec, ttl)
redis.call('SET', bodyKey, body, 'EX', ttl)
indexMessage(id, caller, to, tag)
openCount = openCount + redis.call('ZADD', OPEN, due or now, id)
openBytes = redis.call('INCRBY', OPEN_BYTES, #body)
if fingerprint ~= '' then redis.call('SET', idem, fingerprint .. '|' .. id, 'EX', idemTtl) end
if due then
  -- Not in the recipient's queue until due; an idle dispatcher is woken to learn the new due time.
  parkScheduled(due, sm)
  wakeOnce()
elseif enqueue(to, id, p, caller) then wakeOnce() end
return {'created', id, win}
