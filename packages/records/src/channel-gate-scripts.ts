/**
 * Lua for a channel's gate: the per-channel key `gate:pause` (under the channel's scheduler base, in
 * each outbound partition) that CLAIM reads before it leases anything. Its value says why sending is
 * held, as JSON `{"state": "paused"|"stopped", "reason", "code"?, "until"? (epoch ms), "seq", "at"}`;
 * its expiry is the pause's end. No expiry: held until an operator resumes (a stop, or an operator's
 * pause without seconds). An older relay's value `1` (a throttle pause) reads as a throughput pause.
 *
 * Next to it, `gate:esc` (hash) keeps how far the automatic pauses have escalated: throughput `tMs` /
 * `tAt` (last wait and when), quality `qMs` / `qAt`; and `gate:seq` (counter, never expires) numbers
 * every change, so each change's event has an id of its own that a retried emit repeats.
 *
 * Partition 0 decides (escalation, precedence); the others mirror its answer (`mirror`).
 */

/** After this long without a throughput throttle the wait starts again at 1 s. */
export const THROUGHPUT_RESET_MS = 300_000;
export const THROUGHPUT_FIRST_MS = 1_000;
export const THROUGHPUT_MAX_MS = 60_000;
/** A 131048 within this long of the last one doubles the quality pause (up to the same 24 h). */
export const QUALITY_REPEAT_MS = 86_400_000;
export const QUALITY_MAX_MS = 86_400_000;

/**
 * KEYS: gate, esc, seq. ARGV: action (throughput | quality | stop | pause | resume | mirror), reason,
 * code|'', ms (throughput / quality: Retry-After, -1 when CBOT gave none; pause: the operator's, 0 =
 * until resumed; mirror: the pause's PTTL, -1 until resumed), now (ms), qualityMs (QUALITY_PAUSE_S), value (mirror: the JSON to write, '' = none),
 * wake (the partition's wake-up channel: a resume publishes on it).
 * Reply: {1|0 changed, the gate's JSON after the step ('' when active), its PTTL (-1 held until
 * resumed, -2 none)}; a resume's JSON is `{"state":"active",…}` with its own seq.
 */
export const GATE_KEYS = ['gate', 'esc', 'seq'] as const;
export const GATE_ARGS = ['action', 'reason', 'code', 'ms', 'now', 'qualityMs', 'value', 'wake'] as const;
export const GATE = `
now = tonumber(now)
ms = tonumber(ms)
if action == 'mirror' then
  if value == '' then redis.call('DEL', gate)
  elseif ms > 0 then redis.call('SET', gate, value, 'PX', ms)
  else redis.call('SET', gate, value) end
  if value == '' or ms <= 0 then redis.call('PUBLISH', wake, '1') end
  return {1, value, ms}
end
local cur = redis.call('GET', gate)
local ttl = redis.call('PTTL', gate)
local st = nil
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok and type(v) == 'table' then st = v else st = {state = 'paused', reason = 'throughput'} end
end
local function json(state, why, untilMs)
  local v = {state = state, reason = why, seq = redis.call('INCR', seq), at = now}
  if code ~= '' then v['code'] = tonumber(code) end
  if untilMs then v['until'] = untilMs end
  return cjson.encode(v)
end
local function put(state, why, pttl)
  local v
  if pttl > 0 then
    v = json(state, why, now + pttl)
    redis.call('SET', gate, v, 'PX', pttl)
  else
    v = json(state, why, nil)
    redis.call('SET', gate, v)
  end
  return {1, v, pttl > 0 and pttl or -1}
end
if action == 'resume' then
  if not cur then return {0, '', -2} end
  redis.call('DEL', gate)
  -- Throughput starts again at its first wait; the quality history stays (a repeat within 24 h doubles).
  redis.call('HDEL', esc, 'tMs', 'tAt')
  redis.call('PUBLISH', wake, '1')
  return {1, json('active', reason, nil), -2}
end
-- A stop is cleared only by a resume.
if st and st['state'] == 'stopped' then return {0, cur, ttl} end
if action == 'stop' then return put('stopped', reason, 0) end
if action == 'pause' then return put('paused', 'operator', ms) end
-- Automatic pauses extend a pause, never shorten it, and leave one held until resumed alone.
if ttl == -1 then return {0, cur, ttl} end
local level = 0
if action == 'throughput' then
  -- A throttle during a pause came from a send started before it: no escalation.
  if ttl <= 0 then
    local e = redis.call('HMGET', esc, 'tMs', 'tAt')
    local prev, at = tonumber(e[1] or '0'), tonumber(e[2] or '0')
    if prev > 0 and now - at < ${THROUGHPUT_RESET_MS} then level = math.min(prev * 2, ${THROUGHPUT_MAX_MS}) else level = ${THROUGHPUT_FIRST_MS} end
    redis.call('HSET', esc, 'tMs', level, 'tAt', now)
  end
  -- Retry-After wins (0 included: CBOT asked for no wait).
  if ms >= 0 then level = ms end
elseif action == 'quality' then
  if not (ttl > 0 and st and st['reason'] == 'quality') then
    local e = redis.call('HMGET', esc, 'qMs', 'qAt')
    local prev, at = tonumber(e[1] or '0'), tonumber(e[2] or '0')
    if prev > 0 and now - at < ${QUALITY_REPEAT_MS} then level = math.min(prev * 2, ${QUALITY_MAX_MS}) else level = tonumber(qualityMs) end
    redis.call('HSET', esc, 'qMs', level, 'qAt', now)
  end
  level = math.max(level, ms)
else
  return redis.error_reply('gate: unknown action ' .. action)
end
redis.call('PEXPIRE', esc, ${QUALITY_REPEAT_MS * 2})
if level <= 0 or level <= ttl then return {0, cur or '', ttl} end
return put('paused', reason, level)
`;
