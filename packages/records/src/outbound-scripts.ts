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

import { HISTORY_LIB, RANK_TABLE } from './scripts.js';

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
  redis.call('HDEL', r, 's', 'tok', 'rc')
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

/**
 * Reconciling an attempt whose outcome is unknown (docs/resilience.md, "No double message:
 * reconciliation"). Needs LIB and the locals `now`, `nowIso`, `wamidTtl`.
 *
 * - `o:orph:<to>`  hash (channel scheduler key): statuses for recipient `to` whose wamid the relay has
 *                  not recorded ("orphans"), field wamid → `<first seen, ms>|<biz_opaque_callback_data>`.
 *                  "First seen" (the ingress's clock) is compared with the attempt's stamp (the
 *                  dispatcher's): the relay's hosts keep their clocks in step (NTP).
 * - record field `rcw`: when the current wait for a status began (ms); `o:r:<to>` field `rc`: the id
 *                  of the head message the held recipient waits for.
 */
export const RECONCILE_LIB = `
local function korph(to) return cb .. ':o:orph:' .. to end

-- An orphan status that identifies head message id, whose unknown attempts began at stampMs:
-- {wamid, 'opaque'} when it carries the id in biz_opaque_callback_data; else {wamid, 'recipient'}
-- for the earliest one first seen after stampMs that names no other relay message; else nil.
local function findOrphan(to, id, stampMs)
  local key = korph(to)
  local all = redis.call('HGETALL', key)
  local best, bestAt
  for i = 1, #all, 2 do
    local wamid, v = all[i], all[i + 1]
    if redis.call('EXISTS', cb .. ':wamid:' .. wamid) == 1 then
      redis.call('HDEL', key, wamid)
    else
      local sep = string.find(v, '|', 1, true) or (#v + 1)
      local at, opaque = tonumber(string.sub(v, 1, sep - 1)) or 0, string.sub(v, sep + 1)
      if opaque == id then return {wamid, 'opaque'} end
      if at >= stampMs and (opaque == '' or redis.call('EXISTS', krec(opaque)) == 0) and (not bestAt or at < bestAt) then
        best, bestAt = wamid, at
      end
    end
  end
  if best then return {best, 'recipient'} end
  return nil
end

-- The head entry of \`to\` is recorded sent with the orphan's wamid (the statuses parked for it
-- applied, as for any settle) and leaves the queue; m is findOrphan's answer.
local function reconcileHead(to, entry, m)
  local id = string.sub(entry, 2)
  local how = 'its id in biz_opaque_callback_data'
  if m[2] == 'recipient' then how = 'a status for its recipient with a wamid the relay had not seen' end
  local a = '{"at":"' .. nowIso .. '","outcome":"reconciled","detail":"CBOT took an attempt whose answer was lost (' .. m[1] .. '): identified by ' .. how .. '; not sent again"}'
  endRecord(id, 'sent', a, m[1], '', wamidTtl)
  redis.call('HDEL', krec(id), 'rcw')
  redis.call('HDEL', korph(to), m[1])
  popHead(to, entry)
end
`;

/** The outbound backlog and its bounds, checked in the same step as the accept. */
const ACCEPT_PRELUDE = `
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
local function indexMessage(id, caller, to)
  indexKey(base .. ':ix:c:' .. caller, id)
  indexKey(base .. ':ix:t:' .. to, id)
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
 * body, traceparent|'' (kept as the record's `tp`), channel. Answers per row: {'created'|'duplicate'|'conflict', id} or {'full', 'count'|'bytes'}.
 *
 * The backlog bound is exact: the count and the bytes are read and written in the same step.
 */
export const ACCEPT_ROW = { keysPerItem: 3, argsPerItem: 10 };
export const ACCEPT_SHARED = ['base', 'now', 'recTtl', 'idemTtl', 'backlogMax', 'backlogMaxBytes'] as const;
export const ACCEPT_PER_ROW = `
  local rec, idem, bodyKey = k[1], k[2], k[3]
  local id, to, mtype, caller, p, expiresAt, fingerprint, body, tp = a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]
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
  redis.call('HSET', rec, unpack(f))
  redis.call('EXPIRE', rec, recTtl)
  redis.call('SET', bodyKey, body, 'EX', recTtl)
  indexMessage(id, caller, to)
  openCount = openCount + redis.call('ZADD', OPEN, now, id)
  openBytes = redis.call('INCRBY', OPEN_BYTES, #body)
  if fingerprint ~= '' then redis.call('SET', idem, fingerprint .. '|' .. id, 'EX', idemTtl) end
  if enqueue(to, id, p, caller) then wakeOnce() end
  return {'created', id}`;
export const ACCEPT_BATCH_PRELUDE = LIB + ACCEPT_PRELUDE;

/**
 * Claims up to `n` recipients for sending, within the global send rate (GCRA over Redis TIME) and
 * any global pause; makes due holds and expired leases ready first. For each recipient it looks at
 * the head message: one that can no longer be sent (expired, too old, body gone) ends here and the
 * next one is looked at; one that can is stamped in flight and leased.
 *
 * A head message whose last attempt's outcome is unknown is reconciled first (RECONCILE_LIB): recorded
 * sent when a status identifies it, else its recipient waits up to `reconcileMs`, then it is resent.
 *
 * Reply: {jobs, ended, state, waitMs}. jobs: {to, tok, entry, body, ambiguous 0|1, failures, acceptedAt, caller};
 * ended: {reason, id} (reason `reconciled_opaque`/`reconciled_recipient`: recorded sent, not sent again); state: 'more' (n were claimed), 'rate' (the rate limit held some back: try
 * again in waitMs), 'paused' (CBOT throttled the sender: waitMs), 'idle' (nothing ready; waitMs until
 * the next hold or lease falls due, -1 if none).
 */
export const CLAIM_KEYS = ['tat', 'pause', 'fence', 'weights', 'ambiguous', 'idle'] as const;
export const CLAIM_ARGS = ['base', 'now', 'recTtl', 'ch', 'nowIso', 'n', 'leaseMs', 'maxAgeMs', 'intervalMs', 'toleranceMs', 'reconcileMs', 'wamidTtl', 'appliedUpTo'] as const;
export const CLAIM = `${LIB}${RECONCILE_LIB}
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
local function pick()
  for i = 1, 3 do
    local p = PRIORITIES[i]
    local ring = kring(p)
    local credit = kcredit(p)
    for _ = 1, 1000 do
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
    local r = redis.call('HMGET', rec, 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt', 'caller', 'rcw')
    local reason = nil
    if not r[1] then reason = 'missing'
    elseif r[1] ~= 'queued' and r[1] ~= 'sending' then reason = 'done'
    elseif r[2] and tonumber(r[2]) <= now then reason = 'expired'
    elseif now - tonumber(r[3] or r[6]) > tonumber(maxAgeMs) then reason = 'max_age'
    else
      local body = redis.call('GET', kbody(id))
      local m = nil
      if body and r[4] then
        -- The last attempt's outcome is unknown (its answer was lost): CBOT may have it. A status that
        -- identifies it records it sent; without one, the recipient waits until reconcileMs after the
        -- wait began (its later messages behind it), then the message is sent again.
        m = findOrphan(to, id, tonumber(r[4]))
        if not m then
          local since = tonumber(r[8] or '')
          if not since then
            since = now
            redis.call('HSET', rec, 'rcw', now)
            appendAttempt(rec, '{"at":"' .. nowIso .. '","outcome":"unknown","detail":"the answer to the last attempt was lost; waiting up to ' .. math.floor(tonumber(reconcileMs) / 1000) .. ' s for a status before sending again"}')
          end
          local untilMs = since + tonumber(reconcileMs)
          -- The window is over, but callbacks that reached the relay within it may not be applied
          -- yet (fanouts behind, appliedUpTo): look again in 500 ms, up to 10 windows in all.
          if now >= untilMs and appliedUpTo ~= '' and tonumber(appliedUpTo) < untilMs and now < since + 10 * tonumber(reconcileMs) then
            untilMs = now + 500
          end
          if now < untilMs then
            redis.call('HSET', kr(to), 's', 'held', 'rc', id)
            redis.call('HDEL', kr(to), 'tok')
            redis.call('ZADD', HELD, untilMs, to)
            return false
          end
          redis.call('HDEL', rec, 'rcw')
        end
      end
      if m then
        reconcileHead(to, entry, m)
        ended[#ended + 1] = {'reconciled_' .. m[2], id}
        reason = 'reconciled'
      elseif not body then
        reason = 'no_body'
      else
        if r[1] ~= 'sending' then addHistory(rec, 'sending', now) end
        -- The stamp of the earliest attempt not known to have ended stays: a status after it identifies the message.
        redis.call('HSET', rec, 'status', 'sending', 'updatedAt', now)
        local amb = 0
        if r[4] then
          amb = 1
          redis.call('HINCRBY', rec, 'resends', 1)
          redis.call('INCR', ambiguous)
        else
          redis.call('HSET', rec, 'inflight', now)
        end
        local tok = tostring(redis.call('INCR', fence))
        redis.call('HSET', kr(to), 's', 'leased', 'tok', tok)
        redis.call('ZADD', LEASES, now + tonumber(leaseMs), to)
        return {to, tok, entry, body, amb, r[5] or '0', r[6], r[7] or '-'}
      end
    end
    if reason ~= 'reconciled' then popHead(to, entry) end
    if reason == 'expired' then
      endRecord(id, 'expired', attempt('expired'), '', '', 0)
    elseif reason == 'max_age' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: message older than the maximum age"}', 0)
    elseif reason == 'no_body' then
      endRecord(id, 'failed', '', '', '{"message":"gave up: the message body is no longer stored (RECORD_TTL_S passed)"}', 0)
    end
    if reason ~= 'done' and reason ~= 'reconciled' then ended[#ended + 1] = {reason, id} end
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
redis.call('SET', idle, '1')
local waitMs = -1
for _, set in ipairs({HELD, LEASES}) do
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
 * A status for a wamid the relay has not recorded (APPLY_STATUS answered unknown), kept as an orphan of
 * its recipient (RECONCILE_LIB); when the recipient waits on an unknown outcome and the orphan
 * identifies its head message, that message is recorded sent at once. `to`: the recipient as queued
 * (normalised recipient_id), or '' — `opaque`, when it names one of this partition's records, gives it.
 * KEYS: state (the recipient's, for Cluster routing). Reply: {'kept'|'known'|'none'} or
 * {'reconciled_opaque'|'reconciled_recipient', id}.
 */
export const ORPHAN_KEYS = ['state'] as const;
export const ORPHAN_ARGS = ['base', 'now', 'recTtl', 'ch', 'nowIso', 'to', 'wamid', 'opaque', 'seenAt', 'orphanTtl', 'wamidTtl'] as const;
export const ORPHAN = `${LIB}${RECONCILE_LIB}
useChannel(ch)
if opaque ~= '' then
  local owner = redis.call('HMGET', krec(opaque), 'to', 'channel')
  if owner[1] and (owner[2] or 'default') == chId then to = owner[1] end
end
if to == '' then return {'none'} end
if redis.call('EXISTS', cb .. ':wamid:' .. wamid) == 1 then return {'known'} end
-- First seen: the first status parked for the wamid (APPLY_STATUS), or seenAt (when the ingress took
-- this one, or CBOT's own time of it), whichever is earliest.
local parked = redis.call('HGET', cb .. ':wpend:' .. wamid, 'h') or ''
local seen = tonumber(seenAt)
local first = tonumber(string.match(parked, '^%a+ (%d+)') or '')
if first and first < seen then seen = first end
local key = korph(to)
-- A later status of the same wamid can only make it older (CBOT's time of a redelivered callback).
local prev = redis.call('HGET', key, wamid)
local prevAt = prev and tonumber(string.match(prev, '^(%d+)'))
if not prevAt or seen < prevAt then
  if prev and opaque == '' then opaque = string.match(prev, '|(.*)$') or '' end
  redis.call('HSET', key, wamid, seen .. '|' .. opaque)
end
redis.call('EXPIRE', key, orphanTtl)
if redis.call('HLEN', key) > 32 then
  -- A busy recipient: forget orphans recorded since (their send was settled) or older than the TTL.
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local at = tonumber(string.match(all[i + 1], '^(%d+)') or '0')
    if at < tonumber(now) - tonumber(orphanTtl) * 1000 or redis.call('EXISTS', cb .. ':wamid:' .. all[i]) == 1 then redis.call('HDEL', key, all[i]) end
  end
end
local st = redis.call('HMGET', kr(to), 's', 'rc')
if st[1] ~= 'held' or not st[2] then return {'kept'} end
local entry = redis.call('LINDEX', kq(to), 0)
if not entry or string.sub(entry, 2) ~= st[2] then return {'kept'} end
local r = redis.call('HMGET', krec(st[2]), 'status', 'inflight')
if r[1] ~= 'sending' or not r[2] then return {'kept'} end
local m = findOrphan(to, st[2], tonumber(r[2]))
if not m then return {'kept'} end
reconcileHead(to, entry, m)
redis.call('ZREM', HELD, to)
makeReady(to)
wake()
return {'reconciled_' .. m[2], st[2]}
`;

/**
 * Keeps a lease alive while its holder retries writing CBOT's answer: the lease's expiry moves to
 * `untilMs` if `tok` still holds it. Runs under `maxmemory` too (`allow-oom`): it only rewrites the
 * score of a member that exists, and a lapsed lease would mean a second send. KEYS: leases, state.
 * ARGV: to, tok, untilMs. Reply: 1 renewed, 0 the lease had moved on.
 */
export const RENEW = `#!lua flags=allow-oom
local st = redis.call('HMGET', KEYS[2], 's', 'tok')
if st[1] ~= 'leased' or st[2] ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`;
