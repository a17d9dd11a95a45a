-- A failed attempt, if this consumer still owns the entry: retried after the backoff while
-- attempts are left (the entry stays pending, claimable after the backoff), else the job
-- ends failed and dead-lettered (dead_letter, as start.lua does for a consumer that died).
-- XCLAIM's IDLE makes the entry look idle for (visibility - backoff) ms, so XAUTOCLAIM
-- with min-idle = visibility picks it up once the backoff has passed.
-- Returns 1 retrying | 2 dead-lettered | 3 dead-lettered, and the follow-up job waits in
--       the outbox (to be ended) | 0 refused (not the owner)
local stream, job_hash, dead = KEYS[1], KEYS[2], KEYS[3] -- 4... keys that end with the job
local group, consumer, entry_id = ARGV[1], ARGV[2], ARGV[3]
local err_type, message = ARGV[4], ARGV[5]
local not_before_ms, idle_ms = ARGV[6], ARGV[7]
-- When the handler began, if later than the start said (see complete.lua), or "".
local began_at, now, result_ttl = ARGV[8], ARGV[9], ARGV[10]
local job_id, next_job_id, dead_max = ARGV[11], ARGV[12], ARGV[13]
local duration_us = ARGV[14] -- how long the attempt's handler ran (microseconds)
if not owns(stream, group, consumer, entry_id) then
  return 0
end
if began_at ~= '' then
  redis.call('HSET', job_hash, 'started_at', began_at)
end
local f = redis.call('HMGET', job_hash, 'attempts', 'max_attempts', 'status')
local attempts, max_attempts = f[1] or '0', f[2] or '1'
if f[3] == 'retrying' then
  return 1 -- written already: this call was sent again after a lost reply
end
local prefix = prefix_of(stream)
attempt_ended(prefix, duration_us)
if out_of_attempts(attempts, max_attempts) then
  local job = {stream = stream, group = group, entry_id = entry_id, hash = job_hash,
    job_id = job_id, next_job_id = next_job_id, now = now, ttl = result_ttl, keys = KEYS,
    ends_from = 4, dead = dead, dead_max = dead_max}
  if dead_letter(job, err_type, message, attempts, max_attempts) then
    return 3
  end
  return 2
end
redis.call('HSET', job_hash, 'status', 'retrying', 'error', job_error(err_type, message),
  'not_before_ms', not_before_ms, 'consumer', '')
changed(job_hash)
redis.call('XCLAIM', stream, group, consumer, 0, entry_id, 'IDLE', idle_ms, 'JUSTID')
redis.call('ZADD', prefix .. 'retrying', not_before_ms, job_id)
count_outcome(prefix, 'retried')
return 1
