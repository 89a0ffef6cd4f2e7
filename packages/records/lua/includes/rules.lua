--[[
  WhatsApp's rules per channel and recipient (docs/whatsapp-rules.md; src/recipients.ts writes them),
  in the recipient's partition so accept and claim read them in their own step:
  - kwindow(to)  hash: `in` the newest inbound message's time (unix s), `opt` when the recipient
                 opted out (ms).
  - kwtrack()    when the relay first saw an inbound message on the channel (ms): a recipient with no
                 inbound after 24 h of tracking has a closed window, before that an unknown one.
  recipientRules(to) → window ('o' open, 'c' closed, 'u' unknown), lastInboundAt (s) or nil, optedOutAt or nil.
  headRule(rec, to, mtype, fb, wpol): the head message goes as it is ('send'), as its fallback template
  ('fallback', recorded here), or not at all: 'opted_out', 'window' (free-form, window closed, policy
  e(nforce), no fallback). fb is the record's field (absent: no fallback, '1' has one, '2' sends it).
  acceptRule(mtype, wpol, fb, win, lastIn, opt): the accept's refusal ({'optout', at} or {'window',
  lastInboundAt}) or nil, and whether the message goes as its fallback.
  Needs `now` and the current channel (useChannel).
]]
--- @include "includes/keys"
--- @include "includes/history"

local trackedSince = {}
local function recipientRules(to)
  local w = redis.call('HMGET', kwindow(to), 'in', 'opt')
  local t = tonumber(now)
  local last = tonumber(w[1])
  if last then
    if t - last * 1000 < {{WINDOW_MS}} then return 'o', w[1], w[2] end
    return 'c', w[1], w[2]
  end
  local since = trackedSince[cb]
  if not since then
    since = tonumber(redis.call('GET', kwtrack()) or '-1')
    trackedSince[cb] = since
  end
  if since >= 0 and t - since >= {{WINDOW_MS}} then return 'c', nil, w[2] end
  return 'u', nil, w[2]
end

local function headRule(rec, to, mtype, fb, wpol)
  local win, _, opt = recipientRules(to)
  if opt then return 'opted_out' end
  if wpol ~= 'e' or mtype == 'template' or win ~= 'c' or fb == '2' then return 'send' end
  if fb ~= '1' then return 'window' end
  redis.call('HSET', rec, 'fb', '2')
  addHistory(rec, 'fallback', now)
  return 'fallback'
end

local function acceptRule(mtype, wpol, fb, win, lastIn, opt)
  if opt then return {'optout', opt}, false end
  if wpol == 'e' and mtype ~= 'template' and win == 'c' then
    if fb ~= '1' then return {'window', lastIn or ''}, false end
    return nil, true
  end
  return nil, false
end
