--[[
  Key names, the Lua side of packages/records/src/keys.ts (PartitionKeys, ChannelKeys): change both
  together (keys.int.test.ts compares them). Needs the local `base` (the partition's base) declared
  before it. Channel keys are under `cb`, set by useChannel (channel `default`: base itself).
]]
local chId, cb, HELD, LEASES, SCHED, RCPT
local function useChannel(ch)
  if not ch or ch == '' then ch = 'default' end
  chId = ch
  if ch == 'default' then cb = base else cb = base .. ':c:' .. ch end
  HELD = cb .. ':o:held'
  LEASES = cb .. ':o:leases'
  SCHED = cb .. ':o:sched'
  RCPT = cb .. ':o:rcpt'
end
useChannel('default')
-- ChannelKeys
local function kq(to) return cb .. ':o:q:' .. to end
local function kr(to) return cb .. ':o:r:' .. to end
local function kring(p) return cb .. ':o:ring:' .. p end
local function kready(p, c) return cb .. ':o:ready:' .. p .. ':' .. c end
local function kcredit(p) return cb .. ':o:credit:' .. p end
local function kwamid(w) return cb .. ':wamid:' .. w end
local function kwamidb(day, slot) return cb .. ':wm:' .. day .. ':' .. slot end
local function kwpend(w) return cb .. ':wpend:' .. w end
local function kwindow(to) return cb .. ':o:w:' .. to end
local function kwtrack() return cb .. ':o:wtrack' end
local function korph(to) return cb .. ':o:orph:' .. to end
local function kreceipt(w) return cb .. ':rcpt:' .. w end
-- PartitionKeys
local function krec(id) return base .. ':msg:' .. id end
local function idOfRec(rec) return string.sub(rec, #base + 6) end
local function kbody(id) return base .. ':body:' .. id end
local function kixCaller(c) return base .. ':ix:c:' .. c end
local function kixTo(to) return base .. ':ix:t:' .. to end
local function kixTag(c, t) return base .. ':ix:g:' .. c .. ':' .. t end
local SEQ = base .. ':o:seq'
local IX_CALLERS = base .. ':ix:callers'
local function kusage(day) return base .. ':usage:' .. day end
local CHANNELS = base .. ':channels'
local OPEN = base .. ':open'
local OPEN_BYTES = base .. ':open:bytes'
local PENDING = base .. ':o:pending'
local DLQ = base .. ':dlq'
local IDLE = base .. ':o:idle'
local WAKE = base .. ':o:wake'
local HIST_ON = base .. ':hist:on'
local HIST_DIRTY = base .. ':hist:dirty'
