-- Report progress, only while this consumer runs the job.
-- KEYS: 1 job hash
-- ARGV: 1 consumer, 2 percent, 3 message
-- Returns 1 written | 0 ignored
if redis.call('HGET', KEYS[1], 'consumer') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'progress', ARGV[2], 'message', ARGV[3])
return 1
