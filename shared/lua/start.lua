-- Begin an attempt on a delivered or claimed entry, if this consumer owns it.
-- KEYS: 1 stream, 2 job hash, 3 dead-letter stream, 4... keys that end with the job
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 now (ms), 5 now (RFC 3339),
--       6 visibility timeout (ms), 7 result ttl (s), 8 entries the dead-letter stream keeps
-- Returns {"run", input, attempts, max_attempts, idempotency_key, next job id}
--       | {"lost"} (not ours) | {"skip", status} (already final, entry removed)
--       | {"defer", ms} (retry backoff not over) | {"dead"} (attempts used up)
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owned == 0 then
  return {'lost'}
end
local function remove_entry()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
  redis.call('XDEL', KEYS[1], ARGV[3])
end
local function expire_job()
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  end_with_job(KEYS, 4, ARGV[7])
end
local f = redis.call('HMGET', KEYS[2], 'status', 'not_before_ms', 'cancel', 'attempts',
  'max_attempts', 'input', 'idempotency_key', 'job_id', 'error', 'consumer', 'next_job_id')
local status = f[1]
if not status then
  remove_entry()
  return {'skip', 'missing'}
end
if status == 'succeeded' or status == 'failed' or status == 'cancelled' then
  remove_entry()
  return {'skip', status}
end
if status == 'running' and f[10] == ARGV[2] and f[3] ~= '1' then
  -- Started by this very consumer already (the reply to that was lost): the same attempt.
  return {'run', f[6], f[4], f[5], f[7] or '', f[11] or ''}
end
if f[3] == '1' then
  -- Cancelled while running on a consumer that has since died.
  remove_entry()
  redis.call('HSET', KEYS[2], 'status', 'cancelled', 'finished_at', ARGV[5], 'consumer', '')
  follow_up_ends(KEYS[1], KEYS[2], 'cancelled')
  expire_job()
  return {'skip', 'cancelled'}
end
local now = tonumber(ARGV[4])
local not_before = tonumber(f[2] or '0')
if not_before > now then
  -- Backoff not over: hand the entry back so it becomes claimable when it is.
  local idle = math.max(0, tonumber(ARGV[6]) - (not_before - now))
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', idle, 'JUSTID')
  return {'defer', tostring(not_before - now)}
end
local attempts = tonumber(f[4] or '0')
local max_attempts = tonumber(f[5] or '1')
if attempts >= max_attempts then
  -- Every attempt was used, the last ones by consumers that died: dead-letter the job.
  local last = f[9]
  local message = 'gave up after ' .. attempts .. ' attempts'
  if last and last ~= '' then
    local ok, decoded = pcall(cjson.decode, last)
    if ok and type(decoded) == 'table' and decoded['message'] then
      message = message .. '; last error: ' .. tostring(decoded['message'])
    end
  else
    message = message .. '; the process running it died each time'
  end
  local err = cjson.encode({type = 'AttemptsExhausted', message = message})
  redis.call('HSET', KEYS[2], 'status', 'failed', 'error', err, 'finished_at', ARGV[5],
    'consumer', '')
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[8], '*', 'job_id', f[8], 'entry_id', ARGV[3],
    'error', err, 'attempts', tostring(attempts))
  remove_entry()
  follow_up_ends(KEYS[1], KEYS[2], 'failed')
  expire_job()
  return {'dead'}
end
attempts = attempts + 1
redis.call('HSET', KEYS[2], 'status', 'running', 'attempts', tostring(attempts),
  'started_at', ARGV[5], 'consumer', ARGV[2], 'progress', '0', 'message', '')
return {'run', f[6], tostring(attempts), tostring(max_attempts), f[7] or '', f[11] or ''}
