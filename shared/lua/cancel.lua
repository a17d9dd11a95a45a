-- Cancel a job: a queued (or retrying) one is removed from its stream and never runs;
-- a running one is flagged, and its consumer stops it and writes "cancelled".
-- KEYS: 1 stream, 2 job hash, 3... keys that end with the job (end_with_job: the upload is
--       deleted, the others expire with the status)
-- ARGV: 1 group, 2 now (RFC 3339), 3 result ttl (s)
-- Returns {"missing"} | {"final", status} | {"cancelled"} | {"cancelling"}
local f = redis.call('HMGET', KEYS[2], 'status', 'entry_id')
local status = f[1]
if not status then
  return {'missing'}
end
if status == 'succeeded' or status == 'failed' or status == 'cancelled' then
  return {'final', status}
end
if status == 'running' then
  redis.call('HSET', KEYS[2], 'cancel', '1')
  return {'cancelling'}
end
-- pcall: the group does not exist until a consumer has started.
redis.pcall('XACK', KEYS[1], ARGV[1], f[2])
redis.call('XDEL', KEYS[1], f[2])
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'cancel', '1', 'finished_at', ARGV[2],
  'consumer', '')
follow_up_ends(KEYS[1], KEYS[2], 'cancelled')
redis.call('EXPIRE', KEYS[2], ARGV[3])
end_with_job(KEYS, 3, ARGV[3])
return {'cancelled'}
