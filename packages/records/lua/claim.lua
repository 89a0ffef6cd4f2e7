--[[
  Claims up to `n` recipients of channel `ch` for sending, within the channel's send rate (GCRA over
  Redis TIME) and pause; makes due holds and expired leases ready first. For each recipient it looks
  at the head message: one that can no longer be sent ends here and the next one is looked at; one
  that can is stamped in flight and leased.

    KEYS[1] tat          the channel's gate:tat
    KEYS[2] pause        the channel's gate:pause
    KEYS[3] fence
    KEYS[4] weights
    KEYS[5] ambiguous
    KEYS[6] idle
    ARGV[1] base         the partition's base
    ARGV[2] now          ms
    ARGV[3] recTtl       s
    ARGV[4] ch           channel
    ARGV[5] nowIso
    ARGV[6] n
    ARGV[7] leaseMs
    ARGV[8] maxAgeMs
    ARGV[9] intervalMs
    ARGV[10] toleranceMs
  Returns {jobs, ended, state, waitMs}. jobs: {to, tok, entry, body, ambiguous 0|1, failures,
  acceptedAt, caller}; ended: {reason, id}; state: 'more' (n were claimed), 'rate' (the rate limit
  held some back: try again in waitMs), 'paused' (CBOT throttled the sender: waitMs), 'idle'
  (nothing ready; waitMs until the next hold or lease falls due, -1 if none).
]]
--- @include "includes/claim-gate"
--- @include "includes/claim-pick"
--- @include "includes/claim-take"

useChannel(ch)
now = tonumber(now)
local ended = {}
local pausedFor = redis.call('PTTL', pause)
if pausedFor > 0 then return {{}, ended, 'paused', pausedFor} end
promote(HELD)
promote(LEASES)

local g = gateOpen()
local want = math.min(tonumber(n), g.tokens)
local jobs = {}
local looked = 0
while #jobs < want and looked < want + 200 do
  local to = pick()
  if not to then break end
  looked = looked + 1
  local job = take(to, ended)
  if job then jobs[#jobs + 1] = job end
end
gateSpend(g, #jobs)
if #jobs >= tonumber(n) then return {jobs, ended, 'more', 0} end
-- The rate limit held the rest back.
if #jobs >= want and want < tonumber(n) then return {jobs, ended, 'rate', gateWait(g, #jobs)} end
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
