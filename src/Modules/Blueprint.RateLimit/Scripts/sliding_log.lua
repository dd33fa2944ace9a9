-- Sliding window log, one atomic decision. Mirrors Blueprint.Core.RateLimiting.SlidingLog.Decide with the
-- caller's ticks being MICROSECONDS, so the KV and the pure core make the same decision on the same trace.
-- Why the shape: a list holds the latest time seen at index 0, then one timestamp per granted permit, oldest
-- first; it never holds more than limit + 1 entries. Expiring pops from the front (amortised O(1) per permit:
-- each timestamp leaves once) and granting pushes at the back, so a decision never reads the whole log.
-- The code must mean the same on Lua 5.1 (Redis: every number a double, exact below 2^53) and Lua 5.4
-- (Garnet: integers and floats): only + - * on integral values, no '//', and never tostring on a number.
--
-- KEYS[1]  a list {latest time seen, t1, t2, ... tn}, timestamps in us, oldest first
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  limit in permits per sliding window
-- ARGV[4]  window length in us
-- ARGV[5]  TTL margin in milliseconds, added to the time until the newest timestamp leaves the window
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])

-- An absent key is the initial state: an empty log, last seen now.
local count = redis.call('LLEN', key) - 1
if count < 0 then
  redis.call('RPUSH', key, int(now))
  count = 0
else
  -- A timestamp earlier than one already seen counts as the later one.
  local last = tonumber(redis.call('LINDEX', key, 0))
  if last > now then
    now = last
  end
end

-- Expire every timestamp at or before now - W: all of them when the newest has gone, else from the front.
local cutoff = now - window
local expired = 0
if count > 0 then
  if tonumber(redis.call('LINDEX', key, -1)) <= cutoff then
    expired = count
  else
    while tonumber(redis.call('LINDEX', key, expired + 1)) <= cutoff do
      expired = expired + 1
    end
  end
end
-- The latest time seen overwrites the last expired entry, and everything before it is trimmed away.
redis.call('LSET', key, expired, int(now))
if expired > 0 then
  redis.call('LTRIM', key, expired, -1)
  count = count - expired
end

local allowed = 0
local retry_after = 0
if count + permits <= limit then
  allowed = 1
  -- Push in chunks: unpack has a bounded stack on both Lua versions.
  local unpack = table.unpack or unpack
  local chunk = {}
  local stamp = int(now)
  local pushed = 0
  while pushed < permits do
    local n = permits - pushed
    if n > 1000 then
      n = 1000
    end
    for i = 1, n do
      chunk[i] = stamp
    end
    redis.call('RPUSH', key, unpack(chunk, 1, n))
    pushed = pushed + n
  end
  count = count + permits
else
  -- When denied, the (count + permits - limit)-th oldest entry must leave the window first.
  retry_after = tonumber(redis.call('LINDEX', key, count + permits - limit)) + window - now
end

local reset_after = 0
if count > 0 then
  reset_after = tonumber(redis.call('LINDEX', key, -1)) + window - now
end
redis.call('PEXPIRE', key, int(math.floor((reset_after + 999) / 1000) + margin))
return {allowed, limit - count, retry_after, reset_after}
