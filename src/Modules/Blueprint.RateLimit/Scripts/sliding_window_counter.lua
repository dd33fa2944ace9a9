-- Sliding window counter, one atomic decision. Mirrors Blueprint.Core.RateLimiting.SlidingWindowCounter.Decide
-- with the caller's ticks being MICROSECONDS, so the KV and the pure core make the same decision on the same trace.
-- Why the shape: the estimate previous * (W - elapsed) / W + current is compared multiplied through by W, so it
-- is exact integer arithmetic (the store keeps limit * W below 2^53); windows are aligned to multiples of W and
-- the latest time seen is kept so a late timestamp cannot make the previous window weigh more. The code must
-- mean the same on Lua 5.1 (Redis: every number a double, exact below 2^53) and Lua 5.4 (Garnet: integers and
-- floats): only + - * on integral values, math.floor(a / b) for division, no '//', and never tostring on a number.
--
-- KEYS[1]  a hash {w = window start in us, c = current count, p = previous count, l = the latest time seen in us}
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  limit in permits per sliding window
-- ARGV[4]  window length in us
-- ARGV[5]  TTL margin in milliseconds, added to the time until both windows are forgotten
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])

-- An absent key is the initial state: the window holding now, both counts 0, last seen now.
local state = redis.call('HMGET', key, 'w', 'c', 'p', 'l')
local stored_start = math.floor(now / window) * window
local current = 0
local previous = 0
local last = now
if state[1] then
  stored_start = tonumber(state[1])
  current = tonumber(state[2])
  previous = tonumber(state[3])
  last = tonumber(state[4])
end

-- A timestamp earlier than one already seen counts as the later one; windows never go back.
local start
start, now = window_of(now, last, stored_start, window)
if start ~= stored_start then
  if start == stored_start + window then
    previous = current
  else
    previous = 0
  end
  current = 0
end

local elapsed = now - start
local weight = window - elapsed
local budget = limit * window
local allowed = 0
local retry_after = 0
if previous * weight + (current + permits) * window <= budget then
  allowed = 1
  current = current + permits
elseif current + permits <= limit then
  -- Within this window: wait until the previous window's weight has decayed enough.
  retry_after = window - math.floor((limit - permits - current) * window / previous) - elapsed
else
  -- Only the next window can help: there this window's count becomes the decaying one.
  local next_weight = window - math.floor((limit - permits) * window / current)
  if next_weight < 0 then
    next_weight = 0
  end
  retry_after = window - elapsed + next_weight
end

local used = previous * weight + current * window
local remaining = math.floor((budget - used) / window)
if remaining < 0 then
  remaining = 0
end
local reset_after = 0
if current > 0 then
  reset_after = 2 * window - elapsed
elseif previous > 0 then
  reset_after = weight
end
redis.call('HSET', key, 'w', int(start), 'c', int(current), 'p', int(previous), 'l', int(now))
redis.call('PEXPIRE', key, int(math.floor((reset_after + 999) / 1000) + margin))
return {allowed, remaining, retry_after, reset_after}
