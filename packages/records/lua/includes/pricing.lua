--[[
  What a message cost: applyPricing(rec, pricing, at) puts `pr` ("<billable 1|0>|<model>|<category>|
  <type>", message-record.ts's pricingField) on the record once, and only then counts the message in
  the usage bucket of the UTC day of `at` (ms): kusage(day), field "<channel>|<caller>|<category>|<type>"
  → count. A second priced status, or the same one redelivered, finds `pr` set and counts nothing.
  Returns the caller when it counted, else false; the record is marked for the history store
  (includes/history.lua). Needs `base`.
]]
--- @include "includes/keys"
--- @include "includes/history"

local function applyPricing(rec, pricing, at)
  if not pricing or pricing == '' then return false end
  if redis.call('HSETNX', rec, 'pr', pricing) == 0 then return false end
  markDirty(rec, at)
  local who = redis.call('HMGET', rec, 'caller', 'channel')
  local kind = string.match(pricing, '^[^|]*|[^|]*|(.*)$') or 'unknown|regular'
  local bucket = kusage(math.floor(tonumber(at) / 86400000))
  redis.call('HINCRBY', bucket, (who[2] or 'default') .. '|' .. (who[1] or '') .. '|' .. kind, 1)
  redis.call('EXPIRE', bucket, {{USAGE_TTL_S}})
  return who[1] or ''
end
