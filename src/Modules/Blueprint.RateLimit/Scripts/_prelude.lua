-- Shared by every rate-limit script and prepended to each when it is loaded (a Redis script cannot
-- include another). Every script takes the same arguments:
-- KEYS[1]  the state key
-- ARGV[1]  now in microseconds, or '' for the server clock (TIME), so client clocks never matter
-- ARGV[2]  permits requested (0 asks without consuming)
-- ARGV[3], ARGV[4]  the algorithm's two parameters
-- ARGV[5]  TTL margin in milliseconds, added to the time until the state is back to its initial value
-- Numbers go to the server as '%d' text: never '3.0' (Lua 5.4 floats) nor an exponent (a double's
-- shortest form), so Garnet (Lua 5.4) and Redis (Lua 5.1) store the same strings.
local function int(x)
  return string.format('%d', x)
end

local key = KEYS[1]
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local permits = tonumber(ARGV[2])
local margin = tonumber(ARGV[5])

-- The window a (clamped) time falls in, for the window algorithms, as Blueprint.Core's FixedWindow
-- and SlidingWindowCounter do it: time never goes back (the later of now and the last time seen),
-- and the window never goes back (the later of now's window and the stored one; a time inside an
-- earlier window counts as the stored window's start). Returns the window start and the clamped now.
local function window_of(now, last, stored_start, window)
  if last > now then
    now = last
  end
  local start = math.floor(now / window) * window
  if stored_start > start then
    start = stored_start
  end
  if start > now then
    now = start
  end
  return start, now
end
