-- Record a failed attempt and leave the entry pending, claimable after the backoff.
-- XCLAIM's IDLE makes the entry look idle for (visibility - backoff) ms, so XAUTOCLAIM
-- with min-idle = visibility picks it up once the backoff has passed.
-- KEYS: 1 stream, 2 job hash
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 error JSON, 5 not-before (ms), 6 idle (ms),
--       7 when the handler began, if later than the start said (see complete.lua), or ""
-- Returns 1 recorded | 0 refused (not the owner)
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'status', 'retrying', 'error', ARGV[4], 'not_before_ms', ARGV[5],
  'consumer', '')
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[2], 'started_at', ARGV[7])
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[6], 'JUSTID')
return 1
