-- Write a job's final status (succeeded, failed, or cancelled by its consumer), once, if
-- this consumer still owns the entry. A failed attempt that may be retried goes to
-- fail.lua instead.
-- Returns 1 written | 2 written, and the follow-up job waits in the outbox (to be queued,
--       or ended if this job did not succeed)
--       | 0 refused (a stale owner: someone else has or had the entry)
-- Keys that end with the job: those that exist (upload, deleted; artifacts and idempotency
-- key, expiring with the status).
local stream, job_hash = KEYS[1], KEYS[2] -- 3... keys that end with the job
local group, consumer, entry_id, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local result, error_json, now, result_ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local job_id, next_job_id = ARGV[9], ARGV[10] -- the follow-up's id (fixed at submission) or ""
-- The last progress message (written on success: the report itself may not have been),
-- and when the handler began, if later than the start said (a job taken ahead waited for
-- a slot), else "".
local message, began_at = ARGV[11], ARGV[12]
local artifact_bytes = tonumber(ARGV[13]) -- what the run saved as artifacts
local duration_us = ARGV[14] -- how long the attempt's handler ran (microseconds)
if not owns(stream, group, consumer, entry_id) then
  return 0
end
attempt_ended(prefix_of(stream), duration_us)
if began_at ~= '' then
  redis.call('HSET', job_hash, 'started_at', began_at)
end
local job = {stream = stream, group = group, entry_id = entry_id, hash = job_hash,
  job_id = job_id, next_job_id = next_job_id, now = now, ttl = result_ttl, keys = KEYS,
  ends_from = 3}
local follows
if status == 'succeeded' then
  follows = end_job(job, status, 'result', result, 'error', error_json, 'progress', '100',
    'message', message)
elseif status == 'cancelled' then
  follows = end_cancelled(job)
else
  follows = end_job(job, status, 'result', result, 'error', error_json)
end
count_stored(job, #result + artifact_bytes)
if follows then
  return 2
end
return 1
