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
    ARGV[11] wpol        the channel's window policy: e(nforce), w(arn), o(ff)
    ARGV[12] reconcileMs  RECONCILE_WINDOW_S in ms
    ARGV[13] wamidTtl     s
    ARGV[14] appliedUpTo  ms: every callback taken before it has been applied; '' = unknown (no check)
  Heads: WhatsApp's rules, reconciliation (claim-take). Receipts first (claim-receipts), a token each.
  Returns {jobs, ended, state, waitMs, receipts}. jobs: {to, tok, entry, body, ambiguous 0|1, failures,
  acceptedAt, caller, fb ''|1|2}; ended: {reason, id}; receipts: {jobs, dropped} (absent when paused);
  state: 'more', 'rate' (try again in waitMs), 'paused' (the channel's gate holds it: waitMs), 'idle'
  (waitMs until the next hold, lease, receipt or scheduled message falls due, -1 if none).
  Scheduled messages due by now are moved into their recipients' queues first (includes/schedule).
]]
--- @include "includes/claim-gate"
--- @include "includes/claim-pick"
--- @include "includes/claim-take"
--- @include "includes/schedule"
--- @include "includes/claim-receipts"

useChannel(ch)
now = tonumber(now)
local ended = {}
local pausedFor = redis.call('PTTL', pause)
if pausedFor > 0 then return {{}, ended, 'paused', pausedFor} end
-- Held until an operator resumes (a stop, an operator's pause): ask again now and then; a resume wakes.
if pausedFor == -1 then return {{}, ended, 'paused', 5000} end
promote(HELD)
promote(LEASES)
promoteScheduled(500)

local g = gateOpen()
local rc = takeReceipts(math.min(tonumber(n), g.tokens))
local want = math.min(tonumber(n), g.tokens) - #rc[1]
local jobs = {}
local looked = 0
while #jobs < want and looked < want + 200 do
  local to = pick()
  if not to then break end
  looked = looked + 1
  local job = take(to, ended)
  if job then jobs[#jobs + 1] = job end
end
local took = #jobs + #rc[1]
gateSpend(g, took)
if took >= tonumber(n) then return {jobs, ended, 'more', 0, rc} end
-- The rate limit held the rest back.
if #jobs >= want and want + #rc[1] < tonumber(n) then return {jobs, ended, 'rate', gateWait(g, took), rc} end
-- Stopped on a scan bound (stale entries, recipients with nothing left: a canceled campaign leaves
-- many), not on an empty ring: there may be more ready.
if capped or looked >= want + 200 then return {jobs, ended, 'more', 0, rc} end
redis.call('SET', idle, '1')
local waitMs = -1
for _, set in ipairs({HELD, LEASES, SCHED, RCPT}) do
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if first[2] then
    local ms = math.max(1, math.ceil(tonumber(first[2]) - now))
    if waitMs < 0 or ms < waitMs then waitMs = ms end
  end
end
return {jobs, ended, 'idle', waitMs, rc}
