-- Generic cell rate algorithm (virtual scheduling), one atomic decision. Mirrors
-- Blueprint.Core.RateLimiting.Gcra.Decide with the caller's ticks being MICROSECONDS, so the KV and the pure core
-- make the same decision on the same trace. Why the shape: the theoretical arrival time (TAT) is the whole
-- schedule; the latest time seen is kept beside it because TAT alone cannot tell that time went backwards.
-- The code must mean the same on Lua 5.1 (Redis: every number a double, exact below 2^53) and Lua 5.4
-- (Garnet: integers and floats): only + - * on integral values, math.floor(a / b) for division, no '//',
-- and never tostring on a number.
--
-- KEYS[1]  a hash {t = TAT in us, l = the latest time seen in us}
-- ARGV[1]  now in us, or '' for the server clock (TIME)
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3]  burst in permits
-- ARGV[4]  microseconds per permit (the emission interval T)
-- ARGV[5]  TTL margin in milliseconds, added to the time until TAT falls behind the clock
-- Returns  {allowed 0/1, remaining permits, retry-after us, reset-after us}
-- The prelude (_prelude.lua) defines int(), key, now, permits and margin.
local burst = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local tolerance = burst * interval

-- An absent key is the initial state: TAT now, last seen now.
local state = redis.call('HMGET', key, 't', 'l')
local stored_tat = now
local last = now
if state[1] then
  stored_tat = tonumber(state[1])
  last = tonumber(state[2])
end

-- A timestamp earlier than one already seen counts as the later one.
if last > now then
  now = last
end
local tat = stored_tat
if now > tat then
  tat = now
end
local new_tat = tat + permits * interval
local ahead = new_tat - now
local allowed = 0
local retry_after = ahead - tolerance
local final_ahead = tat - now
if ahead <= tolerance then
  allowed = 1
  stored_tat = new_tat
  retry_after = 0
  final_ahead = new_tat - now
end
if final_ahead < 0 then
  final_ahead = 0
end

redis.call('HSET', key, 't', int(stored_tat), 'l', int(now))
redis.call('PEXPIRE', key, int(math.floor((final_ahead + 999) / 1000) + margin))
return {allowed, math.floor((tolerance - final_ahead) / interval), retry_after, final_ahead}
