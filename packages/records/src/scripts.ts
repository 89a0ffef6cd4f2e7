/**
 * Lua for the message records' callback side (the outbound steps are in outbound-scripts.ts). Each
 * script is one atomic step of the record's life. Every key shares the prefix's hash slot in Redis
 * Cluster (see README).
 *
 * Memory: the record hash holds only short values so Redis keeps it as a compact listpack
 * (hash-max-listpack-value, 64 bytes by default); the caller's body, usually longer, has its own key.
 * `updatedAt` and `epoch` (age for DISPATCH_MAX_AGE_S) default to `createdAt` until they differ.
 */

import { STATUS_RANK } from '@cbot-relay/messages';

// The status order lives once, in @cbot-relay/messages; the scripts get it as a Lua table.
export const RANK_TABLE = `{${Object.entries(STATUS_RANK)
  .map(([status, rank]) => `${status}=${rank}`)
  .join(', ')}}`;

const PRELUDE = `
local RANK = ${RANK_TABLE}
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

