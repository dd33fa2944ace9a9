-- Token bucket, one atomic decision. Mirrors Blueprint.Core.RateLimiting.TokenBucket.Decide with the caller's
-- ticks being MICROSECONDS, so the KV and the pure core make the same decision on the same trace.
-- Why the shape: the level is kept as credit in microseconds (tokens x interval), so refilling is the exact
-- integer credit + elapsed with no fractional tokens. The code must mean the same on Lua 5.1 (Redis: every
-- number a double, exact below 2^53) and Lua 5.4 (Garnet: integers and floats): only + - * on integral
-- values, math.floor(a / b) for division, no '//', and never tostring on a number.
--
-- KEYS[1]  a hash {c = credit in us, l = the latest time seen in us}
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  capacity in permits
-- ARGV[4]  microseconds per permit
-- ARGV[5]  TTL margin in milliseconds, added to the time until the bucket is full again
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local capacity = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local credit_max = capacity * interval

-- An absent key is the initial state: a full bucket, last seen now.
local state = redis.call('HMGET', key, 'c', 'l')
local credit = credit_max
local last = now
if state[1] then
  credit = tonumber(state[1])
  last = tonumber(state[2])
end

-- A timestamp earlier than one already seen counts as the later one.
if last > now then
  now = last
end
local elapsed = now - last
if elapsed >= credit_max - credit then
  credit = credit_max
else
  credit = credit + elapsed
end
local cost = permits * interval
local allowed = 0
local retry_after = cost - credit
if credit >= cost then
  allowed = 1
  credit = credit - cost
  retry_after = 0
end

local reset_after = credit_max - credit
redis.call('HSET', key, 'c', int(credit), 'l', int(now))
redis.call('PEXPIRE', key, int(math.floor((reset_after + 999) / 1000) + margin))
return {allowed, math.floor(credit / interval), retry_after, reset_after}
