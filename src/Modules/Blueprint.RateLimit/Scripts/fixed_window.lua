-- Fixed window counter, one atomic decision. Mirrors Blueprint.Core.RateLimiting.FixedWindow.Decide with the
-- caller's ticks being MICROSECONDS, so the KV and the pure core make the same decision on the same trace.
-- Why the shape: windows are aligned to multiples of W (floored, as the core's FloorToWindow), and the latest
-- time seen is kept so a late timestamp cannot reopen an earlier window. The code must mean the same on
-- Lua 5.1 (Redis: every number a double, exact below 2^53) and Lua 5.4 (Garnet: integers and floats): only
-- + - * on integral values, math.floor(a / b) for division, no '//', and never tostring on a number.
--
-- KEYS[1]  a hash {w = window start in us, n = permits granted in it, l = the latest time seen in us}
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  limit in permits per window
-- ARGV[4]  window length in us
-- ARGV[5]  TTL margin in milliseconds, added to the time until the window ends
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])

-- An absent key is the initial state: the window holding now, empty, last seen now.
local state = redis.call('HMGET', key, 'w', 'n', 'l')
local stored_start = math.floor(now / window) * window
local count = 0
local last = now
if state[1] then
  stored_start = tonumber(state[1])
  count = tonumber(state[2])
  last = tonumber(state[3])
end

-- A timestamp earlier than one already seen counts as the later one; windows never go back.
local start
start, now = window_of(now, last, stored_start, window)
if start ~= stored_start then
  count = 0
end
local allowed = 0
if count + permits <= limit then
  allowed = 1
  count = count + permits
end

local until_next = start + window - now
local retry_after = until_next
if allowed == 1 then
  retry_after = 0
end
local reset_after = until_next
if count == 0 then
  reset_after = 0
end
redis.call('HSET', key, 'w', int(start), 'n', int(count), 'l', int(now))
redis.call('PEXPIRE', key, int(math.floor((reset_after + 999) / 1000) + margin))
return {allowed, limit - count, retry_after, reset_after}
