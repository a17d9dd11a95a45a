-- Begin an attempt on a delivered or claimed entry, if this consumer owns it.
-- Returns {"run", input, attempts, max_attempts, idempotency_key, next job id}
--       | {"lost"} (not ours) | {"skip", status} (already final, entry removed)
--       | {"defer", ms} (retry backoff not over) | {"dead"} (attempts used up)
--       | {"paused"} (the function is: the entry is handed back)
local stream, job_hash, dead = KEYS[1], KEYS[2], KEYS[3] -- 4... keys that end with the job
local group, consumer, entry_id = ARGV[1], ARGV[2], ARGV[3]
local now_ms, now, visibility_ms = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local result_ttl, dead_max = ARGV[7], ARGV[8]
if not owns(stream, group, consumer, entry_id) then
  return {'lost'}
end
local f = redis.call('HMGET', job_hash, 'status', 'not_before_ms', 'cancel', 'attempts',
  'max_attempts', 'input', 'idempotency_key', 'job_id', 'error', 'consumer', 'next_job_id',
  'held', 'queue_waited')
local status, cancel, attempts, max_attempts = f[1], f[3], f[4] or '0', f[5] or '1'
if not status then
  remove_entry(stream, group, entry_id)
  return {'skip', 'missing'}
end
if status == 'succeeded' or status == 'failed' or status == 'cancelled' then
  remove_entry(stream, group, entry_id)
  return {'skip', status}
end
if status == 'running' and f[10] == consumer and cancel ~= '1' then
  -- Started by this very consumer already (the reply to that was lost): the same attempt.
  return {'run', f[6], attempts, max_attempts, f[7] or '', f[11] or ''}
end
local job = {stream = stream, group = group, entry_id = entry_id, hash = job_hash,
  job_id = f[8], next_job_id = f[11], now = now, ttl = result_ttl, keys = KEYS,
  ends_from = 4, dead = dead, dead_max = dead_max, was = status, held = f[12]}
if cancel == '1' then
  -- Cancelled while running on a consumer that has since died (or released it).
  end_cancelled(job)
  return {'skip', 'cancelled'}
end
local not_before = tonumber(f[2] or '0')
if not_before > now_ms then
  -- Backoff not over: hand the entry back so it becomes claimable when it is.
  local idle = math.max(0, visibility_ms - (not_before - now_ms))
  redis.call('XCLAIM', stream, group, consumer, 0, entry_id, 'IDLE', idle, 'JUSTID')
  return {'defer', tostring(not_before - now_ms)}
end
if out_of_attempts(attempts, max_attempts) then
  -- The last attempt began and never ended: its consumer died.
  local message = 'the process running it died'
  local ok, last = pcall(cjson.decode, f[9] or '')
  if ok and type(last) == 'table' and last['message'] then
    message = message .. '; last error: ' .. tostring(last['message'])
  end
  dead_letter(job, 'AttemptsExhausted', message, attempts, max_attempts)
  return {'dead'}
end
local prefix = prefix_of(stream)
if is_paused(prefix) then
  -- Paused (read just before the pause, or claimed): handed back, claimable at once (the
  -- consumers' recovery claims it again, and starts it once resumed). It is noted as held
  -- (a retrying one is counted as such already), waiting since it was queued; a job whose
  -- consumer died in an attempt is queued again, waiting from now.
  redis.call('XCLAIM', stream, group, consumer, 0, entry_id, 'IDLE', visibility_ms, 'JUSTID')
  if status ~= 'retrying' and not job.held then
    local since = string.match(entry_id, '^(%d+)')
    if status ~= 'queued' then
      since = redis_ms()
      redis.call('HSET', job_hash, 'status', 'queued', 'consumer', '')
      changed(job_hash)
    end
    redis.call('ZADD', prefix .. 'held', since, job.job_id)
    redis.call('HSET', job_hash, 'held', '1')
  end
  return {'paused'}
end
attempt_began(prefix, job, status, f[13], job.held)
attempts = tostring(tonumber(attempts) + 1)
redis.call('HSET', job_hash, 'status', 'running', 'attempts', attempts, 'started_at', now,
  'consumer', consumer, 'progress', '0', 'message', '', 'queue_waited', '1')
changed(job_hash)
return {'run', f[6], attempts, max_attempts, f[7] or '', f[11] or ''}
