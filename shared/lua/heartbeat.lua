-- Keep the lease on a running job: only if this consumer still owns the entry,
-- reset its idle time so no other consumer claims it.
-- KEYS: 1 stream, 2 job hash
-- ARGV: 1 group, 2 consumer, 3 entry id
-- Returns 0 lease lost | 1 kept | 2 kept, but the job was cancelled
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
if redis.call('HGET', KEYS[2], 'cancel') == '1' then
  return 2
end
return 1
