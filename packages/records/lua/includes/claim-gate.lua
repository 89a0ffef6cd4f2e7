--[[
  The claim's send-rate gate: GCRA over Redis TIME, one theoretical arrival time per channel (the
  key `tat`), bursts of up to toleranceMs. Needs the claim's `tat`, `intervalMs`, `toleranceMs`.
]]

-- What the gate allows now: {clock, tat, interval, tokens}.
local function gateOpen()
  local t = redis.call('TIME')
  local g = {clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), interval = tonumber(intervalMs)}
  g.tat = tonumber(redis.call('GET', tat) or '0')
  if g.tat < g.clock then g.tat = g.clock end
  local allowAt = g.tat - tonumber(toleranceMs)
  g.tokens = 0
  if g.clock >= allowAt then g.tokens = math.floor((g.clock - allowAt) / g.interval) + 1 end
  return g
end

-- `count` sends went through the gate.
local function gateSpend(g, count)
  if count == 0 then return end
  local nextTat = g.tat + count * g.interval
  redis.call('SET', tat, tostring(nextTat), 'PX', math.ceil(nextTat - g.clock + 1000))
end

-- After `count` sends, when the next token is due (ms from now, at least 1).
local function gateWait(g, count)
  local nextAt = g.tat + count * g.interval - tonumber(toleranceMs)
  return math.max(1, math.ceil(nextAt - g.clock))
end
