-- Write a job's final status, once, if this consumer still owns the entry.
-- KEYS: 1 stream, 2 job hash, 3 dead-letter stream, 4 chain outbox stream,
--       5... keys that end with the job (those that exist: upload, deleted; artifacts and
--       idempotency key, expiring with the status)
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 status, 5 result JSON or "", 6 error JSON or "",
--       7 now (RFC 3339), 8 result ttl (s), 9 "1" to dead-letter the job, 10 job id,
--       11 attempts, 12 the follow-up's job id or "" (fixed when the job was submitted),
--       13 entries the dead-letter stream keeps, 14 the last progress message (written on
--       success: the report itself may not have been), 15 when the handler began, if
--       later than the start said (a job taken ahead waited for a slot), else ""
-- Returns 1 written | 2 written, and the follow-up job waits in the outbox (to be queued,
--       or ended if this job did not succeed)
--       | 0 refused (a stale owner: someone else has or had the entry)
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
local succeeded = ARGV[4] == 'succeeded'
if succeeded then
  redis.call('HSET', KEYS[2], 'status', ARGV[4], 'result', ARGV[5], 'error', ARGV[6],
    'finished_at', ARGV[7], 'consumer', '', 'progress', '100', 'message', ARGV[14])
else
  redis.call('HSET', KEYS[2], 'status', ARGV[4], 'result', ARGV[5], 'error', ARGV[6],
    'finished_at', ARGV[7], 'consumer', '')
end
if ARGV[15] ~= '' then
  redis.call('HSET', KEYS[2], 'started_at', ARGV[15])
end
if ARGV[9] == '1' then
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[13], '*', 'job_id', ARGV[10],
    'entry_id', ARGV[3], 'error', ARGV[6], 'attempts', ARGV[11])
end
redis.call('EXPIRE', KEYS[2], ARGV[8])
end_with_job(KEYS, 5, ARGV[8])
if ARGV[12] ~= '' then
  -- The follow-up is decided with the completion; a relay queues it on its own stream, or
  -- ends it (cancelled, naming this job) when this job did not succeed.
  redis.call('XADD', KEYS[4], '*', 'job_id', ARGV[10], 'next_job_id', ARGV[12], 'outcome',
    ARGV[4])
  return 2
end
return 1
