/**
 * Lua for the message records. Each script is one atomic step of the record's life, so a crash
 * between two Redis calls can never leave a record half-moved (e.g. sent but still counted in the
 * backlog). Every key shares the prefix's hash slot in Redis Cluster (see README).
 *
 * Memory: the record hash holds only short values so Redis keeps it as a compact listpack
 * (hash-max-listpack-value, 64 bytes by default); the caller's body, usually longer, has its own key.
 * `updatedAt` and `epoch` (age for DISPATCH_MAX_AGE_S) default to `createdAt` until they differ.
 */

import { STATUS_RANK } from '@cbot-relay/messages';
import { ADD_STANDARD_JOB_FN, batchLua } from '@cbot-relay/queues';

// The status order lives once, in @cbot-relay/messages; the scripts get it as a Lua table.
const RANK_TABLE = `{${Object.entries(STATUS_RANK)
  .map(([status, rank]) => `${status}=${rank}`)
  .join(', ')}}`;

const PRELUDE = `
local RANK = ${RANK_TABLE}
local function appendAttempt(key, json)
  if json == '' then return end
  local prev = redis.call('HGET', key, 'attempts')
  if prev and #prev < 16000 then
    redis.call('HSET', key, 'attempts', prev .. '\\n' .. json)
  elseif not prev then
    redis.call('HSET', key, 'attempts', json)
  end
end
`;

/**
 * KEYS: rec, idem, open, body. ARGV: id, to, type, caller, now, expiresAt|'', fingerprint|'', idemTtlS, recTtlS, body.
 * `open` indexes accepted messages that have not ended (score: acceptance time): its size is the
 * outbound backlog, and the sweeper finds records whose job is missing through it.
 */
const ACCEPT_FN = `
-- An earlier message under the same Idempotency-Key: {'duplicate'|'conflict', its id}; nil when new.
local function earlier(KEYS, ARGV)
  if ARGV[7] == '' then return nil end
  local prev = redis.call('GET', KEYS[2])
  if not prev then return nil end
  local sep = string.find(prev, '|', 1, true)
  local pid = string.sub(prev, sep + 1)
  if string.sub(prev, 1, sep - 1) ~= ARGV[7] then return {'conflict', pid} end
  return {'duplicate', pid}
end

-- Writes a new message: its body, backlog entry, record (one HSET) and Idempotency-Key, in that
-- order. A write that fails part-way (only a key of the wrong type can make one fail once the first
-- has succeeded) leaves at worst a job whose record is missing, which the dispatcher skips, and an
-- index entry the sweeper drops: never a key pointing at a message that does not exist.
local function record(KEYS, ARGV, jobId)
  redis.call('SET', KEYS[4], ARGV[10], 'EX', ARGV[9])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
  local f = {'to', ARGV[2], 'type', ARGV[3], 'caller', ARGV[4], 'status', 'queued', 'createdAt', ARGV[5]}
  if ARGV[6] ~= '' then f[#f + 1] = 'expiresAt'; f[#f + 1] = ARGV[6] end
  -- Kept so a record dropped as an orphan takes its Idempotency-Key with it.
  if ARGV[7] ~= '' then f[#f + 1] = 'idem'; f[#f + 1] = KEYS[2] end
  if jobId then f[#f + 1] = 'job'; f[#f + 1] = jobId end
  redis.call('HSET', KEYS[1], unpack(f))
  redis.call('EXPIRE', KEYS[1], ARGV[9])
  if ARGV[7] ~= '' then redis.call('SET', KEYS[2], ARGV[7] .. '|' .. ARGV[1], 'EX', ARGV[8]) end
  return {'created', ARGV[1]}
end
`;

/** A record without a job; tests use it to build the orphans the sweeper is for. */
export const ACCEPT = `${ACCEPT_FN}
return earlier(KEYS, ARGV) or record(KEYS, ARGV, nil)
`;

/**
 * ACCEPT and BullMQ's own addStandardJob, for a batch of messages, in one atomic script: a message
 * is either recorded and queued, or neither (no orphan record for a request that failed halfway),
 * and a whole batch of concurrent requests costs one round trip. A Redis error on one message's keys
 * fails that message alone (see record() for what it can leave behind). The job id BullMQ assigns is kept on
 * the record. Per message: ACCEPT's 4 keys and addStandardJob's 9, ACCEPT's 10 args and
 * addStandardJob's 3 (see batchLua for the layout); the answer is ACCEPT's, or {'error', message}.
 */
export const ACCEPT_SHAPE = { keysPerItem: 13, argsPerItem: 13 };

export const ACCEPT_AND_ENQUEUE_BATCH = batchLua({
  ...ACCEPT_SHAPE,
  prelude: ACCEPT_FN + ADD_STANDARD_JOB_FN,
  perItem: `
  local prev = earlier(k, a)
  if prev then return prev end
  local jobId = bullmqAddStandardJob({k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13]}, {a[11], a[12], a[13]})
  if type(jobId) == 'number' and jobId < 0 then return {'error', 'addStandardJob failed: ' .. jobId} end
  return record(k, a, jobId)`,
});

/**
 * KEYS: rec, ambiguous counter, body. ARGV: now, maxAgeMs.
 * Marks the record 'sending' with an in-flight stamp. A stamp left by an earlier run means that run
 * died (or timed out) after the request may have reached CBOT: the caller counts the resend.
 */
export const BEGIN = `
local r = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'epoch', 'inflight', 'failures', 'createdAt')
local st = r[1]
if not st then return {'missing'} end
if st ~= 'queued' and st ~= 'sending' then return {'done', st} end
local now = tonumber(ARGV[1])
if r[2] and tonumber(r[2]) <= now then return {'expired'} end
if now - tonumber(r[3] or r[6]) > tonumber(ARGV[2]) then return {'too-old'} end
local body = redis.call('GET', KEYS[3])
if not body then return {'no-body'} end
redis.call('HSET', KEYS[1], 'status', 'sending', 'inflight', ARGV[1], 'updatedAt', ARGV[1])
local amb = '0'
if r[4] then
  amb = '1'
  redis.call('HINCRBY', KEYS[1], 'resends', 1)
  redis.call('INCR', KEYS[2])
end
return {'go', amb, r[5] or '0', body, r[6]}
`;

/**
 * KEYS: rec, open, wamid, wpend, dlq, body.
 * ARGV: outcome (sent|retry|failed|expired), now, attemptJson|'', wamid|'', wamidTtlS,
 *       countsAsFailure 1|0, keepInflight 1|0, errorJson|'', recTtlS, id.
 * Only an open record (queued/sending) can end; the backlog index moves in the same step.
 */
export const FINISH = `${PRELUDE}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing'} end
appendAttempt(KEYS[1], ARGV[3])
if ARGV[7] ~= '1' then redis.call('HDEL', KEYS[1], 'inflight') end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[9])
redis.call('EXPIRE', KEYS[6], ARGV[9])
local o = ARGV[1]
if o == 'retry' then
  local n
  if ARGV[6] == '1' then n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  else n = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') end
  return {'ok', tostring(n)}
end
if st ~= 'queued' and st ~= 'sending' then return {'closed', st} end
redis.call('ZREM', KEYS[2], ARGV[10])
if o == 'sent' then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'wamid', ARGV[4])
  redis.call('SET', KEYS[3], ARGV[10], 'EX', ARGV[5])
  -- Callbacks can overtake the dispatcher's own write: apply what arrived first.
  local pend = redis.call('HMGET', KEYS[4], 'status', 'error')
  if pend[1] and RANK[pend[1]] and RANK[pend[1]] > RANK['sent'] then
    redis.call('HSET', KEYS[1], 'status', pend[1])
    if pend[2] and pend[2] ~= '' then redis.call('HSET', KEYS[1], 'error', pend[2]) end
    if pend[1] == 'failed' then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[10]) end
    if pend[1] == 'delivered' or pend[1] == 'read' then redis.call('DEL', KEYS[6]) end
  end
  redis.call('DEL', KEYS[4])
elseif o == 'failed' then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[8])
  redis.call('ZADD', KEYS[5], ARGV[2], ARGV[10])
else
  redis.call('HSET', KEYS[1], 'status', 'expired')
  redis.call('DEL', KEYS[6])
end
return {'ok', o}
`;

/**
 * KEYS: wamid, wpend, dlq. ARGV: status, now, errorJson|'', pendTtlS, recKeyPrefix, recTtlS, bodyKeyPrefix.
 * Statuses only move forward. A status for a wamid the relay has not recorded yet is parked and
 * applied by FINISH when the send is recorded.
 */
export const APPLY_STATUS = `${PRELUDE}
local s = ARGV[1]
local rank = RANK[s]
local id = redis.call('GET', KEYS[1])
if not id then
  if rank and rank >= 2 then
    local cur = redis.call('HGET', KEYS[2], 'status')
    if not cur or RANK[cur] < rank then
      redis.call('HSET', KEYS[2], 'status', s, 'error', ARGV[3])
      redis.call('EXPIRE', KEYS[2], ARGV[4])
    end
  end
  return {'unknown'}
end
local rec = ARGV[5] .. id
local cur = redis.call('HGET', rec, 'status')
if not cur then return {'gone', id} end
if rank and rank >= 2 and RANK[cur] and RANK[cur] >= 2 and rank > RANK[cur] then
  redis.call('HSET', rec, 'status', s, 'updatedAt', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', rec, 'error', ARGV[3]) end
  if s == 'failed' then redis.call('ZADD', KEYS[3], ARGV[2], id) end
  -- Delivered or read is final success: the body is no longer needed for a replay.
  if s == 'delivered' or s == 'read' then redis.call('DEL', ARGV[7] .. id) else redis.call('EXPIRE', ARGV[7] .. id, ARGV[6]) end
  redis.call('EXPIRE', rec, ARGV[6])
  return {'applied', id}
end
return {'ignored', id}
`;

/**
 * A failed message back to 'queued', and BullMQ's addStandardJob for it, in one atomic step.
 * KEYS: rec, dlq, open, body, then addStandardJob's 9. ARGV: now, attemptJson, recTtlS, id, then addStandardJob's 3.
 */
export const REPLAY_AND_ENQUEUE = `${PRELUDE}
${ADD_STANDARD_JOB_FN}
local r = redis.call('HMGET', KEYS[1], 'status', 'to')
if not r[1] then
  redis.call('ZREM', KEYS[2], ARGV[4])
  return {'missing'}
end
if r[1] ~= 'failed' then return {'not-failed', r[1]} end
if redis.call('EXISTS', KEYS[4]) == 0 then return {'no-body'} end
appendAttempt(KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'queued', 'epoch', ARGV[1], 'updatedAt', ARGV[1], 'failures', '0')
redis.call('HDEL', KEYS[1], 'error', 'inflight', 'expiresAt')
redis.call('HINCRBY', KEYS[1], 'replays', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[4])
local jobId = bullmqAddStandardJob({KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]},
  {ARGV[5], ARGV[6], ARGV[7]})
if type(jobId) == 'number' and jobId < 0 then return redis.error_reply('addStandardJob failed: ' .. jobId) end
redis.call('HSET', KEYS[1], 'job', jobId)
return {'ok', r[2]}
`;

/**
 * KEYS: rec, open, body. ARGV: id. A record still 'queued' whose job does not exist was never
 * acknowledged to its caller: drop it (and its Idempotency-Key, so a retry creates the message
 * afresh) so it neither lingers as "queued" nor counts in the backlog.
 */
export const DISCARD_ORPHAN = `
local st = redis.call('HGET', KEYS[1], 'status')
if st == 'queued' then
  local idem = redis.call('HGET', KEYS[1], 'idem')
  if idem then redis.call('DEL', idem) end
  redis.call('DEL', KEYS[1], KEYS[3])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'dropped'}
end
if not st then redis.call('ZREM', KEYS[2], ARGV[1]) end
return {'kept'}
`;
