-- Report progress, only while this consumer runs the job.
-- Returns 1 written | 0 ignored
local job_hash = KEYS[1]
local consumer, percent, message = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', job_hash, 'consumer') ~= consumer then
  return 0
end
redis.call('HSET', job_hash, 'progress', percent, 'message', message)
changed(job_hash)
return 1
