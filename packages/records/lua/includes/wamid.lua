--[[
  The CBOT message id (wamid) → relay id mapping: status callbacks find their message by it
  (apply-status), and reconciliation tells a known message's status from an orphan. Needs `base` and
  the channel (includes/keys' useChannel).

  Shared hashes, not a key per message: kwamidb(day, slot), per channel, for the UTC day of the send
  and a slot (the wamid's SHA-1, first 4 hex digits, mod {{WAMID_SLOTS}}); field: the next 8 bytes of
  that SHA-1, raw; value: the relay id. A bucket under 128 entries stays a listpack (~45 B a mapping,
  against ~170 B for a key with a TTL). It expires wamidTtl after its day ends. A wamid is looked up
  in every day's bucket it may still be in, newest first, after the previous release's key
  (kwamid(w), a string), which is also written for {{WAMID_LEGACY_TTL_S}} s so that a process of that
  release finds a mapping written here during a rolling upgrade.
]]
--- @include "includes/keys"

local function wamidSpot(w)
  local h = redis.sha1hex(w)
  local bytes = {}
  for i = 5, 19, 2 do bytes[#bytes + 1] = string.char(tonumber(string.sub(h, i, i + 1), 16)) end
  return tonumber(string.sub(h, 1, 4), 16) % {{WAMID_SLOTS}}, table.concat(bytes)
end

-- The days (newest first) whose buckets may hold a mapping written up to ttlS ago, a day's slack each side.
local function wamidDays(atMs, ttlS)
  local today = math.floor(tonumber(atMs) / 86400000)
  return today + 1, today - math.ceil(tonumber(ttlS) / 86400) - 1
end

local function setWamid(w, id, atMs, ttlS)
  local slot, field = wamidSpot(w)
  local day = math.floor(tonumber(atMs) / 86400000)
  local key = kwamidb(day, slot)
  redis.call('HSET', key, field, id)
  redis.call('EXPIREAT', key, (day + 1) * 86400 + tonumber(ttlS))
  redis.call('SET', kwamid(w), id, 'EX', math.min(tonumber(ttlS), {{WAMID_LEGACY_TTL_S}}))
end

-- The relay id wamid w names on the current channel, or nil.
local function wamidId(w, atMs, ttlS)
  local id = redis.call('GET', kwamid(w))
  if id then return id end
  local slot, field = wamidSpot(w)
  local from, to = wamidDays(atMs, ttlS)
  for day = from, to, -1 do
    id = redis.call('HGET', kwamidb(day, slot), field)
    if id then return id end
  end
  return nil
end

local function delWamid(w, atMs, ttlS)
  redis.call('DEL', kwamid(w))
  local slot, field = wamidSpot(w)
  local from, to = wamidDays(atMs, ttlS)
  for day = from, to, -1 do redis.call('HDEL', kwamidb(day, slot), field) end
end
