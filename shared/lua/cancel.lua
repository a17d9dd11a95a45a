-- Cancel a job, the one place that decides what a cancel does: a queued (or retrying) one
-- ends cancelled at once and never runs; a running one is flagged, and its consumer
-- learns of it from its lease (lease.lua), stops it and ends it cancelled (complete.lua),
-- or, if that consumer died, the next start does (start.lua).
-- Another tenant's job is "missing" (as one that does not exist): checked here, in the
-- atomic step that cancels, not by a read before it.
-- Returns {"missing"} | {"final", status} | {"cancelled"} | {"cancelling"}
local stream, job_hash = KEYS[1], KEYS[2] -- 3... keys that end with the job
local group, now, result_ttl = ARGV[1], ARGV[2], ARGV[3]
local tenant = ARGV[4] -- the caller's tenant; absent: any tenant's job (an admin's cancel)
local f = redis.call('HMGET', job_hash, 'status', 'entry_id', 'job_id', 'next_job_id',
  'tenant', 'held')
local status, job_tenant = f[1], f[5] or ''
if not status or (tenant and job_tenant ~= tenant) then
  return {'missing'}
end
if status == 'succeeded' or status == 'failed' or status == 'cancelled' then
  return {'final', status}
end
if status == 'running' then
  redis.call('HSET', job_hash, 'cancel', '1')
  return {'cancelling'}
end
end_cancelled({stream = stream, group = group, entry_id = f[2], hash = job_hash,
  job_id = f[3], next_job_id = f[4], tenant = job_tenant, now = now, ttl = result_ttl,
  keys = KEYS, ends_from = 3, was = status, held = f[6]})
return {'cancelled'}
