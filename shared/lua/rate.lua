-- A tenant's token bucket of submissions: takes n tokens when all n are there, else none.
-- KEYS: bucket (hash tokens, at_ms; a missing bucket is a full one)
-- ARGV: now_ms (ms since the epoch), rate (tokens a second), burst (most tokens held),
--       n (tokens asked; negative: given back by a submission then refused)
-- Returns 0 when the n tokens were taken, else the ms until n tokens will be there.
local bucket = KEYS[1]
local now_ms, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', bucket, 'tokens', 'at_ms')
local tokens, at_ms = tonumber(state[1]), tonumber(state[2])
if not tokens or not at_ms then
  tokens, at_ms = burst, now_ms
elseif now_ms > at_ms then
  -- A gateway whose clock is behind the last writer's refills nothing: at_ms never goes back.
  tokens = tokens + (now_ms - at_ms) * rate / 1000
  at_ms = now_ms
end
-- Also when the key's burst was lowered since the bucket was filled.
tokens = math.min(burst, tokens)
if tokens < n then
  return math.ceil((n - tokens) * 1000 / rate)
end
tokens = math.min(burst, tokens - n)
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'at_ms', string.format('%d', at_ms))
-- Gone once it would be full again (a missing bucket is full): idle tenants leave nothing.
-- At most ~30 years, so the number stays one PEXPIRE reads as an integer.
local full_in = math.min(1e12, math.max(1000, math.ceil((burst - tokens) * 1000 / rate)))
redis.call('PEXPIRE', bucket, string.format('%d', full_in))
return 0
