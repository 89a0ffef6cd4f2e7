--[[
  The gate script's reading and writing of the gate (lua/gate.lua): its current value, and a new state
  written with its own change number. Needs gate.lua's `gate`, `seq`, `code` and `now`.
]]

-- The gate now: {raw value, PTTL, decoded state (nil when none)}. An older relay's `1` is a throughput pause.
local function gateNow()
  local cur = redis.call('GET', gate)
  local ttl = redis.call('PTTL', gate)
  local st = nil
  if cur then
    local ok, v = pcall(cjson.decode, cur)
    if ok and type(v) == 'table' then st = v else st = {state = 'paused', reason = 'throughput'} end
  end
  return cur, ttl, st
end

-- The JSON of a new state, numbered by the channel's change counter.
local function json(state, why, untilMs)
  local v = {state = state, reason = why, seq = redis.call('INCR', seq), at = now}
  if code ~= '' then v['code'] = tonumber(code) end
  if untilMs then v['until'] = untilMs end
  return cjson.encode(v)
end
-- Writes a new state: with PTTL pttl > 0, else held until resumed.
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
