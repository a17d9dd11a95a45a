-- Give back a job this consumer will not finish (shutdown): the interrupted attempt does
-- not count, and the entry is claimable by other consumers at once.
-- KEYS: 1 stream, [2 job hash] (omitted for entries this consumer never started)
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 visibility timeout (ms)
-- Returns 1 released | 0 not ours
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return 0
end
if #KEYS == 2 and redis.call('HGET', KEYS[2], 'status') == 'running' then
  redis.call('HINCRBY', KEYS[2], 'attempts', -1)
  redis.call('HSET', KEYS[2], 'status', 'queued', 'consumer', '')
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
