-- End a follow-up job that was never queued (the job before it did not succeed, or its
-- function's backlog was at its bound), once: nothing is written if its status exists.
-- KEYS: 1 the follow-up's job hash
-- ARGV: 1 job id, 2 function, 3 status, 4 error JSON, 5 now (RFC 3339), 6 max_attempts,
--       7 the id of the job before it, 8 result ttl (s)
-- Returns 1 written | 0 it had a status already
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'job_id', ARGV[1], 'function', ARGV[2], 'status', ARGV[3],
  'error', ARGV[4], 'progress', '0', 'attempts', '0', 'max_attempts', ARGV[6],
  'created_at', ARGV[5], 'finished_at', ARGV[5], 'previous_job_id', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[8])
return 1
