-- Give back an entry this consumer will not run (shutdown, or read beyond its free
-- slots): claimable by other consumers at once. If it began an attempt here (start.lua),
-- the attempt does not count and the job is queued again.
-- Returns 1 released | 0 not ours
local stream, job_hash = KEYS[1], KEYS[2] -- job_hash omitted when the entry names no job
local group, consumer, entry_id, visibility_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not owns(stream, group, consumer, entry_id) then
  return 0
end
local f = job_hash and redis.call('HMGET', job_hash, 'status', 'consumer') or {}
if f[1] == 'running' and f[2] == consumer then
  redis.call('HINCRBY', job_hash, 'attempts', -1)
  redis.call('HSET', job_hash, 'status', 'queued', 'consumer', '', 'progress', '0',
    'message', '')
  redis.call('HDEL', job_hash, 'started_at')
  changed(job_hash)
end
redis.call('XCLAIM', stream, group, consumer, 0, entry_id, 'IDLE', visibility_ms, 'JUSTID')
return 1
