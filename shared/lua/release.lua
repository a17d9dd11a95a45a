-- Give back a job this consumer will not finish (shutdown): the interrupted attempt does
-- not count, and the entry is claimable by other consumers at once.
-- KEYS: 1 stream, [2 job hash] (omitted for entries this consumer never started)
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 visibility timeout (ms)
-- Returns 1 released | 0 not ours
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return 0
end
local f = #KEYS == 2 and redis.call('HMGET', KEYS[2], 'status', 'consumer') or {}
if f[1] == 'running' and f[2] == ARGV[2] then
  redis.call('HINCRBY', KEYS[2], 'attempts', -1)
  redis.call('HSET', KEYS[2], 'status', 'queued', 'consumer', '', 'progress', '0',
    'message', '')
  redis.call('HDEL', KEYS[2], 'started_at')
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
