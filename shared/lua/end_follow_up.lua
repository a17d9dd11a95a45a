-- End a follow-up job that was never queued (the job before it did not succeed, or its
-- function's backlog was at its bound), once: nothing is written if its status exists.
-- Returns 1 written | 0 it had a status already
local job_hash = KEYS[1] -- the follow-up's
local job_id, function_name, status, error_json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, max_attempts, previous_job_id, result_ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local tenant = ARGV[9] -- the tenant of the job before it ("" for none)
if redis.call('EXISTS', job_hash) == 1 then
  return 0
end
redis.call('HSET', job_hash, 'job_id', job_id, 'function', function_name, 'status', status,
  'error', error_json, 'progress', '0', 'attempts', '0', 'max_attempts', max_attempts,
  'created_at', now, 'finished_at', now, 'previous_job_id', previous_job_id)
if tenant ~= '' then
  redis.call('HSET', job_hash, 'tenant', tenant)
end
redis.call('EXPIRE', job_hash, result_ttl)
changed(job_hash)
-- Counted as any job's end is (its function's keys are the hash's less "job:<id>").
count_outcome(string.sub(job_hash, 1, -(#job_id + 5)), status)
return 1
