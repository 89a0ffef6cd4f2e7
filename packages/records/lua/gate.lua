--[[
  One step of a channel's gate (channel-gate.ts): the key `gate:pause` that every claim on the channel
  reads first. Its value says why sending is held, as JSON {state: paused|stopped, reason, code?,
  until? (epoch ms), seq, at}; its expiry is the pause's end; no expiry: held until an operator
  resumes (a stop, an operator's pause without seconds). An older relay's value `1` reads as a
  throughput pause. `esc` keeps how far the automatic pauses escalated (throughput tMs/tAt, quality
  qMs/qAt); `seq` numbers every change (the change's event id). Partition 0 decides; the other
  partitions get its answer with `mirror`.

    KEYS[1] gate         the channel's gate:pause
    KEYS[2] esc          the channel's gate:esc
    KEYS[3] seq          the channel's gate:seq
    ARGV[1] action       throughput | quality | stop | pause | resume | mirror
    ARGV[2] reason
    ARGV[3] code         the WhatsApp code, or ''
    ARGV[4] ms           throughput / quality: Retry-After, -1 when none; pause: the operator's, 0 = until resumed; mirror: the pause's PTTL, -1 until resumed
    ARGV[5] now          ms
    ARGV[6] qualityMs    QUALITY_PAUSE_S in ms
    ARGV[7] value        mirror: the JSON to write ('' = active)
    ARGV[8] wake         the partition's wake-up channel: a resume publishes on it
  Returns {1|0 changed, the gate's JSON after the step ('' when active), its PTTL (-1 held until
  resumed, -2 none)}; a resume's JSON is {state: 'active', …} with its own seq.
]]
--- @include "includes/gate-state"

now = tonumber(now)
ms = tonumber(ms)
if action == 'mirror' then
  if value == '' then redis.call('DEL', gate)
  elseif ms > 0 then redis.call('SET', gate, value, 'PX', ms)
  else redis.call('SET', gate, value) end
  if value == '' or ms <= 0 then redis.call('PUBLISH', wake, '1') end
  return {1, value, ms}
end
local cur, ttl, st = gateNow()
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
    if prev > 0 and now - at < {{THROUGHPUT_RESET_MS}} then level = math.min(prev * 2, {{THROUGHPUT_MAX_MS}}) else level = {{THROUGHPUT_FIRST_MS}} end
    redis.call('HSET', esc, 'tMs', level, 'tAt', now)
  end
  -- Retry-After wins (0 included: CBOT asked for no wait).
  if ms >= 0 then level = ms end
elseif action == 'quality' then
  if not (ttl > 0 and st and st['reason'] == 'quality') then
    local e = redis.call('HMGET', esc, 'qMs', 'qAt')
    local prev, at = tonumber(e[1] or '0'), tonumber(e[2] or '0')
    if prev > 0 and now - at < {{QUALITY_REPEAT_MS}} then level = math.min(prev * 2, {{QUALITY_MAX_MS}}) else level = tonumber(qualityMs) end
    redis.call('HSET', esc, 'qMs', level, 'qAt', now)
  end
  level = math.max(level, ms)
else
  return redis.error_reply('gate: unknown action ' .. action)
end
redis.call('PEXPIRE', esc, {{ESCALATION_TTL_MS}})
if level <= 0 or level <= ttl then return {0, cur or '', ttl} end
return put('paused', reason, level)
