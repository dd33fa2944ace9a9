-- Leaky bucket as a meter, one atomic decision. Mirrors Blueprint.Core.RateLimiting.LeakyBucketMeter.Decide with
-- the caller's ticks being MICROSECONDS, so the KV and the pure core make the same decision on the same trace.
-- Why the shape: the water level is kept in microseconds of leaking (permits x interval), so draining is the
-- exact integer level - elapsed. The code must mean the same on Lua 5.1 (Redis: every number a double, exact
-- below 2^53) and Lua 5.4 (Garnet: integers and floats): only + - * on integral values, math.floor(a / b) for
-- division, no '//', and never tostring on a number.
--
-- KEYS[1]  a hash {v = level in us, l = the latest time seen in us}
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  capacity in permits
-- ARGV[4]  microseconds per permit (the leak interval)
-- ARGV[5]  TTL margin in milliseconds, added to the time until the bucket is empty
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local capacity = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local level_max = capacity * interval

-- An absent key is the initial state: an empty bucket, last seen now.
local state = redis.call('HMGET', key, 'v', 'l')
local level = 0
local last = now
if state[1] then
  level = tonumber(state[1])
  last = tonumber(state[2])
end

-- A timestamp earlier than one already seen counts as the later one.
if last > now then
  now = last
end
level = level - (now - last)
if level < 0 then
  level = 0
end
local poured = permits * interval
local allowed = 0
local retry_after = level + poured - level_max
if level + poured <= level_max then
  allowed = 1
  level = level + poured
  retry_after = 0
end

redis.call('HSET', key, 'v', int(level), 'l', int(now))
redis.call('PEXPIRE', key, int(math.floor((level + 999) / 1000) + margin))
return {allowed, math.floor((level_max - level) / interval), retry_after, level}
