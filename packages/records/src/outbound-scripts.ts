/**
 * Lua for the outbound path: per-recipient queues, a fair scheduler over them, leases with fencing
 * tokens, and the message records' transitions, each step one atomic script.
 *
 * The shapes (every name under `base`, the relay's key prefix):
 * - `o:q:<to>`       list: the recipient's pending messages, oldest first, each `<priority><relay id>`.
 * - `o:r:<to>`       hash: the recipient's state `s` (absent = idle, `ready`, `leased`, `held`), its
 *                    lease token `tok`, the version `v` of its ready entry, the priority `p` it waits at,
 *                    and how many messages it has pending per priority (`h`, `n`, `b`).
 * - `o:ring:<p>`     list: callers with ready recipients at priority p, served round robin.
 * - `o:ready:<p>:<c>` list: caller c's ready recipients at priority p, as `<version>|<to>`.
 * - `o:credit:<p>`   hash: picks each caller has had in its current turn (its weight is its turn's size).
 * - `o:weights`      hash: caller → weight (default 1).
 * - `o:held`         zset: recipients waiting for a retry or a pair throttle, by the time they are due.
 * - `o:sched`        zset: scheduled messages (X-Relay-Send-At) not yet due, by due time, each
 *                    `<acceptance sequence, 16 digits>|<relay id>` (so equal times keep acceptance order).
 * - `o:seq`          counter: the acceptance sequence of scheduled messages.
 * - `o:leases`       zset: leased recipients by lease expiry; an expired lease makes the recipient ready.
 * - `o:fence`        counter: lease tokens. A worker whose lease moved on cannot touch the queue.
 * - `o:idle`         set when a claim found nothing: the next accept publishes on `o:wake`.
 * - `open` / `open:bytes`  the backlog: open messages by acceptance time, and their body bytes.
 * - `channels`       hash: channel id → messages queued on it (a channel still holding some cannot be removed).
 *
 * Channels (CBOT numbers) each have their own scheduler: `o:q`, `o:r`, `o:ring`, `o:ready`,
 * `o:credit`, `o:held`, `o:leases`, `gate:tat`, `gate:pause` and the `wamid:`/`wpend:` correlation live
 * under the channel's base — `base` itself for channel `default` (today's key names, so messages queued
 * before an upgrade still send), `base:c:<id>` for the others. Records, bodies, the backlog, the fence,
 * weights and the dead letters stay under `base`, shared by every channel.
 *
 * A recipient is in exactly one of: idle (no messages), ready (one valid entry in a ready list),
 * leased (one message in flight), held (in `o:held`). Ready entries carry the recipient's version;
 * an entry whose version is not the current one is stale and skipped when it comes up, which is how
 * a recipient moves to a higher priority without searching a list.
 */

import { HISTORY_LIB, HISTORY_MAX_CHARS, RANK_TABLE } from './scripts.js';

/** The furthest ahead X-Relay-Send-At may schedule a message (seconds). */
export const MAX_SEND_AHEAD_S = 30 * 86_400;

/** Every script that uses LIB declares `base` (the key prefix), `now` (ms) and `recTtl` (s). */
export const LIB = `
local RANK = ${RANK_TABLE}
${HISTORY_LIB}
local PRIORITY_RANK = {h = 3, n = 2, b = 1}
local PRIORITIES = {'h', 'n', 'b'}
-- The channel the script works on (useChannel): its id and the base of its scheduler keys.
local chId, cb, HELD, LEASES
local function useChannel(ch)
  if not ch or ch == '' then ch = 'default' end
  chId = ch
  if ch == 'default' then cb = base else cb = base .. ':c:' .. ch end
  HELD = cb .. ':o:held'
  LEASES = cb .. ':o:leases'
end
useChannel('default')
local function kq(to) return cb .. ':o:q:' .. to end
local function kr(to) return cb .. ':o:r:' .. to end
local function kring(p) return cb .. ':o:ring:' .. p end
local function kready(p, c) return cb .. ':o:ready:' .. p .. ':' .. c end
local function kcredit(p) return cb .. ':o:credit:' .. p end
local function krec(id) return base .. ':msg:' .. id end
local function kbody(id) return base .. ':body:' .. id end
local CHANNELS = base .. ':channels'
local OPEN = base .. ':open'
local OPEN_BYTES = base .. ':open:bytes'
local PENDING = base .. ':o:pending'

-- Queued messages per caller and priority, for the backlog metrics.
local function countPending(c, p, delta)
  local field = (c or '-') .. '|' .. p
  if redis.call('HINCRBY', PENDING, field, delta) <= 0 then redis.call('HDEL', PENDING, field) end
end

-- Messages queued per channel (fields at 0 go, so a removed channel leaves nothing behind).
local function countChannel(delta)
  if redis.call('HINCRBY', CHANNELS, chId, delta) <= 0 then redis.call('HDEL', CHANNELS, chId) end
end

-- The head entry of \`to\`'s queue leaves it.
local function popHead(to, entry)
  redis.call('LPOP', kq(to))
  countChannel(-1)
  redis.call('HINCRBY', kr(to), string.sub(entry, 1, 1), -1)
  countPending(redis.call('HGET', krec(string.sub(entry, 2)), 'caller'), string.sub(entry, 1, 1), -1)
end

local function appendAttempt(rec, json)
  if json == '' then return end
  local prev = redis.call('HGET', rec, 'attempts')
  if prev and #prev < 16000 then
    redis.call('HSET', rec, 'attempts', prev .. '\\n' .. json)
  elseif not prev then
    redis.call('HSET', rec, 'attempts', json)
  end
end

-- A record leaves the backlog (its index entry and its bytes).
local function leaveBacklog(rec, id)
  if redis.call('ZREM', OPEN, id) == 1 then
    local bytes = tonumber(redis.call('HGET', rec, 'bytes') or '0')
    if bytes > 0 then redis.call('DECRBY', OPEN_BYTES, bytes) end
  end
end

-- Ends an open record: o is 'sent' (with wamid), 'failed' (with errorJson) or 'expired'.
-- Returns 'ok', 'closed' (it had ended already) or 'missing'.
local function endRecord(id, o, attemptJson, wamid, errorJson, wamidTtl)
  local rec = krec(id)
  local st = redis.call('HGET', rec, 'status')
  if not st then return 'missing' end
  appendAttempt(rec, attemptJson)
  redis.call('HDEL', rec, 'inflight')
  redis.call('HSET', rec, 'updatedAt', now)
  redis.call('EXPIRE', rec, recTtl)
  redis.call('EXPIRE', kbody(id), recTtl)
  if st ~= 'queued' and st ~= 'sending' then return 'closed' end
  leaveBacklog(rec, id)
  if o == 'sent' then
    redis.call('HSET', rec, 'status', 'sent', 'wamid', wamid)
    addHistory(rec, 'sent', now)
    redis.call('SET', cb .. ':wamid:' .. wamid, id, 'EX', wamidTtl)
    -- Callbacks can overtake the dispatcher's own write: apply what arrived first.
    local wpend = cb .. ':wpend:' .. wamid
    local pend = redis.call('HMGET', wpend, 'status', 'error', 'h')
    if pend[1] and RANK[pend[1]] and RANK[pend[1]] > RANK['sent'] then
      redis.call('HSET', rec, 'status', pend[1])
      -- Every status parked meanwhile (each outranked the one before), with its own times.
      for ps, pat, pcbot in string.gmatch(pend[3] or '', '(%a+) (%d+) (%d*);') do
        if RANK[ps] and RANK[ps] > RANK['sent'] then addHistory(rec, ps, pat, pcbot) end
      end
      if pend[2] and pend[2] ~= '' then redis.call('HSET', rec, 'error', pend[2]) end
      if pend[1] == 'failed' then redis.call('ZADD', base .. ':dlq', now, id) end
      if pend[1] == 'delivered' or pend[1] == 'read' then redis.call('DEL', kbody(id)) end
    end
    redis.call('DEL', wpend)
  elseif o == 'failed' then
    redis.call('HSET', rec, 'status', 'failed', 'error', errorJson)
    addHistory(rec, 'failed', now)
    redis.call('ZADD', base .. ':dlq', now, id)
  else
    redis.call('HSET', rec, 'status', 'expired')
    addHistory(rec, 'expired', now)
    redis.call('DEL', kbody(id))
  end
  return 'ok'
end

-- Queues recipient \`to\` at priority p under caller c, with a fresh version (older entries go stale).
local function pushReady(to, p, c)
  local r = kr(to)
  local v = redis.call('HINCRBY', r, 'v', 1)
  redis.call('HSET', r, 's', 'ready', 'p', p)
  if redis.call('RPUSH', kready(p, c), v .. '|' .. to) == 1 then
    redis.call('RPUSH', kring(p), c)
  end
end

-- A recipient with no lease and no hold: ready for its head message at the highest priority it has
-- pending (a high message behind a bulk one lifts the bulk one), charged to the head's caller; or
-- forgotten when nothing is pending.
local function makeReady(to)
  local r = kr(to)
  redis.call('HDEL', r, 's', 'tok')
  local head = redis.call('LINDEX', kq(to), 0)
  if not head then
    redis.call('DEL', r)
    return
  end
  local counts = redis.call('HMGET', r, 'h', 'n', 'b')
  local p = string.sub(head, 1, 1)
  for i = 1, 3 do
    if tonumber(counts[i] or '0') > 0 then p = PRIORITIES[i]; break end
  end
  local c = redis.call('HGET', krec(string.sub(head, 2)), 'caller') or '-'
  pushReady(to, p, c)
end

-- Appends message id to its recipient's queue; a recipient that was idle becomes ready.
-- Returns true when it did (the scheduler may want waking).
local function enqueue(to, id, p, c)
  local r = kr(to)
  redis.call('RPUSH', kq(to), p .. id)
  countChannel(1)
  redis.call('HINCRBY', r, p, 1)
  countPending(c, p, 1)
  local st = redis.call('HMGET', r, 's', 'p')
  if not st[1] then
    pushReady(to, p, c)
    return true
  end
  if st[1] == 'ready' and PRIORITY_RANK[p] > PRIORITY_RANK[st[2]] then pushReady(to, p, c) end
  return false
end

-- Scheduled messages (X-Relay-Send-At). A scheduled message waits in \`o:sched\` (status
-- \`scheduled\`, not in its recipient's queue, so it holds nothing back) and is promoted into the
-- queue when due, at its place in (due time, acceptance) order: after every entry due earlier, and
-- before immediate messages accepted after its due time (they are only there when the promotion ran
-- late). It never goes before a head that is in flight, held or leased. A record's due time is its
-- \`due\` field, else its \`createdAt\`.
local function kschedule() return cb .. ':o:sched' end
local function enqueueDue(to, id, p, c, due)
  local q, r = kq(to), kr(to)
  local st = redis.call('HMGET', r, 's', 'p')
  local len = redis.call('LLEN', q)
  local floor = 0
  if st[1] == 'leased' or st[1] == 'held' then floor = 1 end
  local pos = len
  -- Walk back from the tail past later-due entries (few: those accepted while the promotion was late).
  for _ = 1, 1000 do
    if pos <= floor then break end
    local e = redis.call('LINDEX', q, pos - 1)
    local f = redis.call('HMGET', krec(string.sub(e, 2)), 'createdAt', 'due', 'status')
    if f[3] == 'sending' then break end
    local d = tonumber(f[2] or f[1] or '0')
    -- An earlier promoted one due at the same time was accepted first; an immediate one was accepted at \`d\`.
    if d < due or (d == due and f[2]) then break end
    pos = pos - 1
  end
  if pos >= len then redis.call('RPUSH', q, p .. id)
  else redis.call('LINSERT', q, 'BEFORE', redis.call('LINDEX', q, pos), p .. id) end
  redis.call('HINCRBY', r, p, 1)
  countPending(c, p, 1)
  if not st[1] then
    pushReady(to, p, c)
    return
  end
  -- A new head (or a higher priority) changes what the ready entry stands for.
  if st[1] == 'ready' and (pos == 0 or PRIORITY_RANK[p] > PRIORITY_RANK[st[2]]) then makeReady(to) end
end

-- Scheduled messages due by now into their recipients' queues, in (due, acceptance) order; at most
-- \`max\` per call (the rest are due at once, so the claim's wait says 1 ms).
local function promoteScheduled(max)
  local sched = kschedule()
  local due = redis.call('ZRANGEBYSCORE', sched, '-inf', now, 'LIMIT', 0, max)
  for _, m in ipairs(due) do
    redis.call('ZREM', sched, m)
    local id = string.sub(m, (string.find(m, '|', 1, true) or 0) + 1)
    local rec = krec(id)
    local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'due')
    if r[1] == 'scheduled' then
      redis.call('HSET', rec, 'status', 'queued', 'updatedAt', now)
      addHistory(rec, 'queued', now)
      enqueueDue(r[2], id, r[3] or 'n', r[4] or '-', tonumber(r[5] or now))
    elseif not r[1] then
      -- The record is gone (it cannot expire before its due time plus the retention; a flush did it).
      countChannel(-1)
      redis.call('ZREM', OPEN, id)
    end
  end
end

-- Cancels one message not yet handed to CBOT (DELETE /v1/messages/{id}, POST /v1/messages/cancel).
-- \`who\` is the caller it must belong to ('' for any). Returns 'ok' (canceled now), 'missing' (no such record,
-- or another caller's) or the status that cannot be canceled. Atomic with the claim: a message the
-- claim took is \`sending\` and stays so; one canceled here is skipped by every later claim.
-- A campaign is canceled 1,000 at a time, so this is lean: the shared counters (per channel, per
-- caller and priority, backlog bytes) are summed in the call and written once by cancelFlush.
local cxChannel, cxPending, cxBytes = {}, {}, 0
local function cancelOne(id, who)
  local rec = krec(id)
  local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'channel', 'sm', 'bytes', 'createdAt', 'hist')
  if not r[1] or (who ~= '' and r[4] ~= who) then return 'missing' end
  if r[1] ~= 'scheduled' and r[1] ~= 'queued' then return r[1] end
  local ch = r[5]
  if not ch or ch == '' then ch = 'default' end
  local chb = base
  if ch ~= 'default' then chb = base .. ':c:' .. ch end
  local p = r[3] or 'n'
  local counted = false
  if r[1] == 'scheduled' then
    redis.call('ZREM', chb .. ':o:sched', r[6] or '')
    counted = true
  else
    -- Off its recipient's queue: usually its head (a campaign is canceled in acceptance order), else
    -- found among the first 1,000 entries. Deeper in a long queue it stays as a tombstone that the
    -- claim drops (a \`canceled\` head is never sent), and the queue's counts go with it then.
    local q, e = chb .. ':o:q:' .. r[2], p .. id
    local removed = false
    if redis.call('LINDEX', q, 0) == e then
      redis.call('LPOP', q)
      removed = true
    elseif redis.call('LPOS', q, e, 'MAXLEN', 1000) then
      removed = redis.call('LREM', q, 1, e) == 1
    end
    if removed then
      counted = true
      local state = chb .. ':o:r:' .. r[2]
      redis.call('HINCRBY', state, p, -1)
      local f = (r[4] or '-') .. '|' .. p
      cxPending[f] = (cxPending[f] or 0) + 1
      -- Nothing left: the recipient is forgotten, so the claim skips its ready entry without a look.
      if redis.call('LLEN', q) == 0 and redis.call('HGET', state, 's') == 'ready' then redis.call('DEL', state) end
    end
  end
  if counted then cxChannel[ch] = (cxChannel[ch] or 0) + 1 end
  if redis.call('ZREM', OPEN, id) == 1 then cxBytes = cxBytes + tonumber(r[7] or '0') end
  local t = tonumber(now)
  local h = r[9] or ''
  if #h <= ${HISTORY_MAX_CHARS} then
    local e = HIST_CODE['canceled'] .. b36(t - tonumber(r[8] or t))
    if h ~= '' then h = h .. ',' .. e else h = e end
  end
  redis.call('HSET', rec, 'status', 'canceled', 'updatedAt', now, 'hist', h)
  redis.call('EXPIRE', rec, recTtl)
  redis.call('DEL', kbody(id))
  return 'ok'
end
local function cancelFlush()
  for ch, n in pairs(cxChannel) do
    if redis.call('HINCRBY', CHANNELS, ch, -n) <= 0 then redis.call('HDEL', CHANNELS, ch) end
  end
  for f, n in pairs(cxPending) do
    if redis.call('HINCRBY', PENDING, f, -n) <= 0 then redis.call('HDEL', PENDING, f) end
  end
  if cxBytes > 0 then redis.call('DECRBY', OPEN_BYTES, cxBytes) end
  cxChannel, cxPending, cxBytes = {}, {}, 0
end

local function wake()
  local idle = base .. ':o:idle'
  if redis.call('EXISTS', idle) == 1 then
    redis.call('DEL', idle)
    redis.call('PUBLISH', base .. ':o:wake', '1')
  end
end

-- The lease of \`to\` is token tok and still current.
local function leaseHeld(to, tok)
  local st = redis.call('HMGET', kr(to), 's', 'tok')
  return st[1] == 'leased' and st[2] == tok
end

-- The leased head message (entry) is done: off the queue, and the recipient ready for the next one.
local function advance(to, tok, entry)
  if not leaseHeld(to, tok) then return false end
  redis.call('ZREM', LEASES, to)
  if redis.call('LINDEX', kq(to), 0) == entry then popHead(to, entry) end
  makeReady(to)
  return true
end

-- The leased recipient waits until untilMs (a retry's backoff, a throttle) with its head in place.
local function hold(to, tok, untilMs)
  if not leaseHeld(to, tok) then return false end
  redis.call('ZREM', LEASES, to)
  redis.call('HSET', kr(to), 's', 'held')
  redis.call('HDEL', kr(to), 'tok')
  redis.call('ZADD', HELD, untilMs, to)
  return true
end
`;

/** The outbound backlog and its bounds, checked in the same step as the accept. */
const ACCEPT_PRELUDE = `
local seqKey = base .. ':o:seq'
local function earlier(idem, fingerprint)
  if fingerprint == '' then return nil end
  local prev = redis.call('GET', idem)
  if not prev then return nil end
  local sep = string.find(prev, '|', 1, true)
  local pid = string.sub(prev, sep + 1)
  if string.sub(prev, 1, sep - 1) ~= fingerprint then return {'conflict', pid} end
  return {'duplicate', pid}
end

-- The list indexes (MessageStore.list): per caller and per recipient, each a zset by acceptance
-- time, written with the record so a durable message is always listed; every message is listed by
-- merging the callers' indexes (\`ix:callers\` names them), which costs no entry of its own. Entries
-- older than the retention (recTtl) are trimmed as new ones arrive, and a key nobody writes to
-- expires whole.
--
-- What one script call has done once need not be done again for its other rows (a batch's rows share
-- the clock): trimming and expiring an index key, adding a caller, reading the backlog's size, and
-- waking the dispatchers.
local trimmed, callersSeen, woke = {}, {}, false
local function indexKey(key, id)
  redis.call('ZADD', key, now, id)
  if not trimmed[key] then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (tonumber(now) - tonumber(recTtl) * 1000))
    redis.call('EXPIRE', key, recTtl)
    trimmed[key] = true
  end
end
local function indexMessage(id, caller, to, tag)
  indexKey(base .. ':ix:c:' .. caller, id)
  indexKey(base .. ':ix:t:' .. to, id)
  if tag ~= '' then
    -- A tag's index (GET /v1/messages?tag=, POST /v1/messages/cancel) keeps its entries as long as a
    -- record can live: the retention after the furthest send time, so a cancel finds every one.
    local key = base .. ':ix:g:' .. caller .. ':' .. tag
    redis.call('ZADD', key, now, id)
    if not trimmed[key] then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (tonumber(now) - (tonumber(recTtl) + ${MAX_SEND_AHEAD_S}) * 1000))
      redis.call('EXPIRE', key, tonumber(recTtl) + ${MAX_SEND_AHEAD_S})
      trimmed[key] = true
    end
  end
  if not callersSeen[caller] then
    redis.call('SADD', base .. ':ix:callers', caller)
    redis.call('EXPIRE', base .. ':ix:callers', recTtl)
    callersSeen[caller] = true
  end
end
-- The backlog's count and bytes, read once per call and kept up to date with each write.
local openCount, openBytes
local function backlogNow()
  if not openCount then
    openCount = redis.call('ZCARD', OPEN)
    openBytes = tonumber(redis.call('GET', OPEN_BYTES) or '0')
  end
end
local function wakeOnce()
  if not woke then
    wake()
    woke = true
  end
end
`;

/**
 * One accept per row; rows share `base`, `now`, the TTLs and the backlog bounds. Per row — KEYS: rec,
 * idem, body; ARGV: id, to (normalised), type, caller, priority (h|n|b), expiresAt|'', fingerprint|'',
 * body, traceparent|'' (kept as the record's `tp`), channel, dueAt|'' (a send time after now: the
 * message is `scheduled` until then), tag|''. Answers per row: {'created'|'duplicate'|'conflict', id} or {'full', 'count'|'bytes'}.
 *
 * The backlog bound is exact: the count and the bytes are read and written in the same step. A
 * scheduled message counts in it from its acceptance; the backlog index's score is the message's due
 * time, so the oldest-open age measures how late a message is, not how far ahead it was scheduled.
 */
export const ACCEPT_ROW = { keysPerItem: 3, argsPerItem: 12 };
export const ACCEPT_SHARED = ['base', 'now', 'recTtl', 'idemTtl', 'backlogMax', 'backlogMaxBytes'] as const;
export const ACCEPT_PER_ROW = `
  local rec, idem, bodyKey = k[1], k[2], k[3]
  local id, to, mtype, caller, p, expiresAt, fingerprint, body, tp = a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]
  local due, tag = tonumber(a[11]), a[12]
  if due and due <= tonumber(now) then due = nil end
  useChannel(a[10])
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
  if tag ~= '' then f[#f + 1] = 'tag'; f[#f + 1] = tag end
  -- A scheduled record (and its body) lives its retention after its due time; its age for
  -- DISPATCH_MAX_AGE_S (\`epoch\`) counts from then too.
  local ttl = recTtl
  local sm
  if due then
    sm = string.format('%016d', redis.call('INCR', seqKey)) .. '|' .. id
    f[8] = 'scheduled'
    f[16] = 'w0'
    for _, v in ipairs({'due', due, 'epoch', due, 'sm', sm}) do f[#f + 1] = v end
    ttl = tonumber(recTtl) + math.ceil((due - tonumber(now)) / 1000)
  end
  redis.call('HSET', rec, unpack(f))
  redis.call('EXPIRE', rec, ttl)
  redis.call('SET', bodyKey, body, 'EX', ttl)
  indexMessage(id, caller, to, tag)
  openCount = openCount + redis.call('ZADD', OPEN, due or now, id)
  openBytes = redis.call('INCRBY', OPEN_BYTES, #body)
  if fingerprint ~= '' then redis.call('SET', idem, fingerprint .. '|' .. id, 'EX', idemTtl) end
  if due then
    -- Not in the recipient's queue until due (promoteScheduled); an idle dispatcher is woken to learn
    -- the new due time.
    redis.call('ZADD', kschedule(), due, sm)
    countChannel(1)
    wakeOnce()
  elseif enqueue(to, id, p, caller) then wakeOnce() end
  return {'created', id}`;
export const ACCEPT_BATCH_PRELUDE = LIB + ACCEPT_PRELUDE;

/**
 * Claims up to `n` recipients for sending, within the global send rate (GCRA over Redis TIME) and
 * any global pause; makes due holds and expired leases ready first. For each recipient it looks at
 * the head message: one that can no longer be sent (expired, too old, body gone) ends here and the
 * next one is looked at; one that can is stamped in flight and leased.
 *
 * Reply: {jobs, ended, state, waitMs}. jobs: {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt, caller};
 * ended: {reason, id}; state: 'more' (n were claimed), 'rate' (the rate limit held some back: try
 * again in waitMs), 'paused' (CBOT throttled the sender: waitMs), 'idle' (nothing ready; waitMs until
 * the next hold, lease or scheduled message falls due, -1 if none). Scheduled messages due by now are
 * moved into their recipients' queues first.
 */
export const CLAIM_KEYS = ['tat', 'pause', 'fence', 'weights', 'ambiguous', 'idle'] as const;
export const CLAIM_ARGS = ['base', 'now', 'recTtl', 'ch', 'nowIso', 'n', 'leaseMs', 'maxAgeMs', 'intervalMs', 'toleranceMs'] as const;
export const CLAIM = `${LIB}
useChannel(ch)
now = tonumber(now)
local ended = {}
local pausedFor = redis.call('PTTL', pause)
if pausedFor > 0 then return {{}, ended, 'paused', pausedFor} end

local function promote(set)
  local due = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, 500)
  for _, to in ipairs(due) do
    redis.call('ZREM', set, to)
    local st = redis.call('HGET', kr(to), 's')
    if (set == HELD and st == 'held') or (set == LEASES and st == 'leased') then makeReady(to) end
  end
end
promote(HELD)
promote(LEASES)
promoteScheduled(500)

local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(intervalMs)
local tatNow = tonumber(redis.call('GET', tat) or '0')
if tatNow < clock then tatNow = clock end
local allowAt = tatNow - tonumber(toleranceMs)
local tokens = 0
if clock >= allowAt then tokens = math.floor((clock - allowAt) / interval) + 1 end
local want = math.min(tonumber(n), tokens)

-- The next ready recipient: priorities strictly in order, callers round robin within one, each
-- caller's turn as many picks as its weight.
-- Set when pick gave up on a long run of stale entries, or the loop below on recipients with nothing
-- left to send (a canceled campaign leaves many): there may be more ready, so the claim says 'more'.
local capped = false
local function pick()
  for i = 1, 3 do
    local p = PRIORITIES[i]
    local ring = kring(p)
    local credit = kcredit(p)
    for scanned = 1, 1000 do
      if scanned == 1000 then capped = true end
      local c = redis.call('LINDEX', ring, 0)
      if not c then break end
      local list = kready(p, c)
      local e = redis.call('LPOP', list)
      local drained = redis.call('LLEN', list) == 0
      if drained then
        redis.call('LPOP', ring)
        redis.call('HDEL', credit, c)
      end
      if e then
        local sep = string.find(e, '|', 1, true)
        local v, to = string.sub(e, 1, sep - 1), string.sub(e, sep + 1)
        local st = redis.call('HMGET', kr(to), 's', 'v')
        if st[1] == 'ready' and st[2] == v then
          if not drained then
            local used = redis.call('HINCRBY', credit, c, 1)
            if used >= tonumber(redis.call('HGET', weights, c) or '1') then
              redis.call('LPOP', ring)
              redis.call('RPUSH', ring, c)
              redis.call('HDEL', credit, c)
            end
          end
          return to
        end
      end
    end
  end
  return nil
end

local function attempt(outcome) return '{"at":"' .. nowIso .. '","outcome":"' .. outcome .. '"}' end

-- Leases \`to\` for its head message, ending heads that can no longer be sent. False when none is left.
local function take(to)
  local q = kq(to)
  for _ = 1, 50 do
    local entry = redis.call('LINDEX', q, 0)
    if not entry then
      redis.call('DEL', kr(to))
      return false
    end
    local id = string.sub(entry, 2)
    local rec = krec(id)
    local r = redis.call('HMGET', rec, 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt', 'caller', 'due')
    local reason = nil
    if not r[1] then reason = 'missing'
    elseif r[1] ~= 'queued' and r[1] ~= 'sending' then reason = 'done'
    elseif r[2] and tonumber(r[2]) <= now then reason = 'expired'
    elseif now - tonumber(r[3] or r[6]) > tonumber(maxAgeMs) then reason = 'max_age'
    else
      local body = redis.call('GET', kbody(id))
      if not body then
        reason = 'no_body'
      else
        if r[1] ~= 'sending' then addHistory(rec, 'sending', now) end
        redis.call('HSET', rec, 'status', 'sending', 'inflight', now, 'updatedAt', now)
        local amb = 0
        if r[4] then
          amb = 1
          redis.call('HINCRBY', rec, 'resends', 1)
          redis.call('INCR', ambiguous)
        end
        local tok = tostring(redis.call('INCR', fence))
        redis.call('HSET', kr(to), 's', 'leased', 'tok', tok)
        redis.call('ZADD', LEASES, now + tonumber(leaseMs), to)
        -- A scheduled message's wait counts from its due time.
        return {to, tok, entry, body, amb, r[5] or '0', r[8] or r[6], r[7] or '-'}
      end
    end
    popHead(to, entry)
    if reason == 'expired' then
      endRecord(id, 'expired', attempt('expired'), '', '', 0)
    elseif reason == 'max_age' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: message older than the maximum age"}', 0)
    elseif reason == 'no_body' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: the message body is no longer stored (RECORD_TTL_S passed)"}', 0)
    end
    if reason ~= 'done' then ended[#ended + 1] = {reason, id} end
  end
  -- Many ended heads in a row: leave the rest to the next claim.
  makeReady(to)
  return false
end

local jobs = {}
local looked = 0
while #jobs < want and looked < want + 200 do
  local to = pick()
  if not to then break end
  looked = looked + 1
  local job = take(to)
  if job then jobs[#jobs + 1] = job end
end
if #jobs > 0 then
  local nextTat = tatNow + #jobs * interval
  redis.call('SET', tat, tostring(nextTat), 'PX', math.ceil(nextTat - clock + 1000))
end
if #jobs >= tonumber(n) then return {jobs, ended, 'more', 0} end
if #jobs >= want and want < tonumber(n) then
  -- The rate limit held the rest back: the next token is due at allowAt + (#jobs + 1 - tokens) * interval.
  local nextAt = tatNow + #jobs * interval - tonumber(toleranceMs)
  return {jobs, ended, 'rate', math.max(1, math.ceil(nextAt - clock))}
end
if capped or looked >= want + 200 then return {jobs, ended, 'more', 0} end
redis.call('SET', idle, '1')
local waitMs = -1
for _, set in ipairs({HELD, LEASES, kschedule()}) do
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if first[2] then
    local ms = math.max(1, math.ceil(tonumber(first[2]) - now))
    if waitMs < 0 or ms < waitMs then waitMs = ms end
  end
end
return {jobs, ended, 'idle', waitMs}
`;

/**
 * A leased message's attempt ended for good. KEYS: rec, state (named so Redis Cluster routes the call). ARGV: to, tok, entry, outcome
 * (sent|failed|expired), attemptJson|'', wamid|'', errorJson|'', wamidTtl.
 * The record moves whoever holds the lease (it is the truth about the message); the queue moves
 * only for the current lease holder. Reply: {record outcome, 1|0 queue advanced}.
 */
export const SETTLE_KEYS = ['rec', 'state'] as const;
export const SETTLE_ARGS = ['base', 'now', 'recTtl', 'ch', 'to', 'tok', 'entry', 'outcome', 'attemptJson', 'wamid', 'errorJson', 'wamidTtl'] as const;
export const SETTLE = `${LIB}
useChannel(ch)
local recorded = endRecord(string.sub(entry, 2), outcome, attemptJson, wamid, errorJson, wamidTtl)
local moved = advance(to, tok, entry)
return {recorded, moved and 1 or 0}
`;

/**
 * A leased message's attempt will be retried: the attempt is recorded, the failure counted when
 * `counts` is 1, and the recipient held until `untilMs` with the message still at its head — unless
 * the count reaches maxAttempts, when the message ends failed (with errorJson) and the queue moves on.
 * ARGV: to, tok, entry, attemptJson, counts 1|0, keepInflight 1|0, untilMs, maxAttempts, errorJson.
 * Reply: {'held'|'failed'|'stale', failures}.
 */
export const RETRY_KEYS = ['rec', 'state'] as const;
export const RETRY_ARGS = ['base', 'now', 'recTtl', 'ch', 'to', 'tok', 'entry', 'attemptJson', 'counts', 'keepInflight', 'untilMs', 'maxAttempts', 'errorJson'] as const;
export const RETRY = `${LIB}
useChannel(ch)
local id = string.sub(entry, 2)
if not redis.call('HGET', rec, 'status') then
  advance(to, tok, entry)
  return {'stale', 0}
end
appendAttempt(rec, attemptJson)
if keepInflight ~= '1' then redis.call('HDEL', rec, 'inflight') end
redis.call('HSET', rec, 'updatedAt', now)
local failures
if counts == '1' then failures = redis.call('HINCRBY', rec, 'failures', 1)
else failures = tonumber(redis.call('HGET', rec, 'failures') or '0') end
if failures >= tonumber(maxAttempts) then
  endRecord(id, 'failed', '', '', errorJson, 0)
  advance(to, tok, entry)
  return {'failed', failures}
end
if hold(to, tok, tonumber(untilMs)) then return {'held', failures} end
return {'stale', failures}
`;

/** CBOT throttled the sender: hold every claim for \`ms\`. Extends a pause, never shortens one. */
export const PAUSE_KEYS = ['pause'] as const;
export const PAUSE_ARGS = ['ms'] as const;
export const PAUSE = `
if redis.call('PTTL', pause) < tonumber(ms) then redis.call('SET', pause, '1', 'PX', ms) end
return 1
`;

/**
 * A lease given back unused (the worker could not send in time): the recipient is ready again with
 * its head in place. The in-flight stamp the claim set goes too, unless an earlier attempt's answer
 * was lost (keepInflight 1): then the next send is still a possible resend.
 * ARGV: to, tok, entry, keepInflight. Reply: {1|0 released}.
 */
export const RELEASE_KEYS = ['rec', 'state'] as const;
export const RELEASE_ARGS = ['base', 'now', 'recTtl', 'ch', 'to', 'tok', 'entry', 'keepInflight'] as const;
export const RELEASE = `${LIB}
useChannel(ch)
if not leaseHeld(to, tok) then return {0} end
if keepInflight ~= '1' and redis.call('HGET', rec, 'status') == 'sending' then redis.call('HDEL', rec, 'inflight') end
redis.call('ZREM', LEASES, to)
makeReady(to)
return {1}
`;

/**
 * A failed message back to 'queued' and onto its recipient's queue, in one step. KEYS: rec.
 * ARGV: id, attemptJson. Reply: {'ok', to} | {'missing'} | {'not-failed', status} | {'no-body'}.
 */
export const REPLAY_KEYS = ['rec'] as const;
export const REPLAY_ARGS = ['base', 'now', 'recTtl', 'id', 'attemptJson'] as const;
export const REPLAY = `${LIB}
local r = redis.call('HMGET', rec, 'status', 'to', 'priority', 'caller', 'channel')
useChannel(r[5])
if not r[1] then
  redis.call('ZREM', base .. ':dlq', id)
  return {'missing'}
end
if r[1] ~= 'failed' then return {'not-failed', r[1]} end
local body = redis.call('GET', kbody(id))
if not body then return {'no-body'} end
appendAttempt(rec, attemptJson)
redis.call('HSET', rec, 'status', 'queued', 'epoch', now, 'updatedAt', now, 'failures', '0', 'bytes', #body)
addHistory(rec, 'queued', now)
redis.call('HDEL', rec, 'error', 'inflight', 'expiresAt')
redis.call('HINCRBY', rec, 'replays', 1)
redis.call('EXPIRE', rec, recTtl)
redis.call('EXPIRE', kbody(id), recTtl)
redis.call('ZREM', base .. ':dlq', id)
redis.call('ZADD', OPEN, now, id)
redis.call('INCRBY', OPEN_BYTES, #body)
if enqueue(r[2], id, r[3] or 'n', r[4] or '-') then wake() end
return {'ok', r[2]}
`;

/**
 * An open record from the lane layout in front of its recipient's queue (the upgrade from lanes: lane
 * jobs are older than anything accepted since, so the caller adopts each recipient's jobs newest
 * first). ARGV: id, to (normalised). Idempotent: a record already moved (field `sq`) or no longer
 * open is left alone. Reply: {'moved'|'skipped'}.
 */
export const ADOPT_KEYS = ['rec'] as const;
export const ADOPT_ARGS = ['base', 'now', 'recTtl', 'id', 'to'] as const;
export const ADOPT = `${LIB}
local r = redis.call('HMGET', rec, 'status', 'caller', 'priority', 'sq', 'channel')
useChannel(r[5])
if r[4] or (r[1] ~= 'queued' and r[1] ~= 'sending') then return {'skipped'} end
local p = r[3] or 'n'
redis.call('HSET', rec, 'sq', '1', 'priority', p)
redis.call('LPUSH', kq(to), p .. id)
countChannel(1)
redis.call('HINCRBY', kr(to), p, 1)
countPending(r[2], p, 1)
local st = redis.call('HGET', kr(to), 's')
if not st or st == 'ready' then makeReady(to) end
return {'moved'}
`;

/**
 * Cancels one message not yet handed to CBOT (see cancelOne). KEYS: rec (routes the call). ARGV: id,
 * who (the caller it must belong to; '' for an admin). Reply: {'ok'|'missing'|<status>}.
 */
export const CANCEL_KEYS = ['rec'] as const;
export const CANCEL_ARGS = ['base', 'now', 'recTtl', 'id', 'who'] as const;
export const CANCEL = `${LIB}
local answer = cancelOne(id, who)
cancelFlush()
return {answer}
`;

/**
 * One slice of a cancel by tag: the tag index's entries after the cursor (score, id), at most
 * \`limit\`, each canceled if it is still scheduled or queued. Each slice is atomic with the claims, so a
 * message either was claimed before its slice (and is not counted) or is canceled and never sent.
 * KEYS: index. ARGV: afterScore, afterId ('' from the start), limit.
 * Reply: {canceled, lastScore, lastId, 1|0 done}.
 */
export const CANCEL_TAG_KEYS = ['index'] as const;
export const CANCEL_TAG_ARGS = ['base', 'now', 'recTtl', 'afterScore', 'afterId', 'limit'] as const;
export const CANCEL_TAG = `${LIB}
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
`;
