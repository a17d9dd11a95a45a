-- Queue a job in one atomic step: status hash + stream entry (+ idempotency key).
-- A delayed job waits in the scheduled set instead (status scheduled) until consumers/
-- timers.py queues it.
-- Returns {"queued", job_id} | {"scheduled", job_id} | {"existing", job_id}
--       | {"reused", job_id} | {"full", backlog} | {"quota", jobs not yet ended}
local stream, job_hash = KEYS[1], KEYS[2]
local idempotency = KEYS[3] -- its key (ignored when idempotency_key is "")
local upload = KEYS[4] -- the job's upload (kept until the job ends; may not exist)
local scheduled, active = KEYS[5], KEYS[6]
local job_id, function_name, input, max_attempts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local created_at, max_backlog = ARGV[5], tonumber(ARGV[6])
-- As given by the client ("" when none), and the key's ttl (s): a bound for jobs that
-- never end; the end sets a shorter one.
local idempotency_key, idempotency_ttl = ARGV[7], ARGV[8]
-- Follow-up functions (a JSON list, "[]" for none), the follow-up's job id or "", the job
-- this one follows or "".
local chain, next_job_id, previous_job_id = ARGV[9], ARGV[10], ARGV[11]
local upload_ttl = ARGV[12] -- "" when the job has no upload
local fingerprint = ARGV[13] -- the request's (with an idempotency key)
-- A job hash's key less the job id (the key's job is found by its id, in this slot).
local job_prefix = ARGV[14]
-- Whose job it is: the API key's tenant, "" with auth off (the field is then left out).
local tenant = ARGV[15]
-- A delayed job: when it is due (ms since the epoch, and as RFC 3339); "" for now.
local due_ms, not_before = ARGV[16], ARGV[17]
local callback_url = ARGV[18] -- told the final status (consumers/callbacks.py); "" for none
-- The tenant's quota of jobs not yet ended ("" for none) and how many it has in other
-- functions (read just before: the count in this function is exact).
local max_active, active_elsewhere = ARGV[19], tonumber(ARGV[20])
if previous_job_id ~= '' and redis.call('EXISTS', job_hash) == 1 then
  -- A follow-up relayed twice: the job exists already.
  return {'existing', job_id}
end
if idempotency_key ~= '' then
  local existing = redis.call('GET', idempotency)
  -- A key whose job has expired names nothing: it is taken anew below.
  if existing and redis.call('EXISTS', job_prefix .. existing) == 1 then
    local stored = redis.call('HGET', job_prefix .. existing, 'fingerprint')
    if stored and stored ~= fingerprint then
      return {'reused', existing}
    end
    return {'existing', existing}
  end
end
if max_active ~= '' then
  local mine = tonumber(redis.call('HGET', active, tenant) or '0')
  if mine + active_elsewhere >= tonumber(max_active) then
    return {'quota', tostring(mine + active_elsewhere)}
  end
end
-- One XLEN (and ZCARD) per batch: the submissions before this one in the batch are
-- counted on. Delayed jobs count in the backlog.
local backlog = batch[stream]
if not backlog then
  backlog = redis.call('XLEN', stream) + redis.call('ZCARD', scheduled)
end
if backlog >= max_backlog then
  return {'full', tostring(backlog)}
end
batch[stream] = backlog + 1
local status, entry = 'queued', ''
if due_ms ~= '' then
  status = 'scheduled'
  redis.call('ZADD', scheduled, due_ms, job_id)
else
  entry = redis.call('XADD', stream, '*', 'job_id', job_id)
end
if tenant ~= '' then
  redis.call('HINCRBY', active, tenant, 1)
end
-- Fields still empty are left out (status readers take a missing field as empty): a
-- busy gateway writes thousands of these hashes a second.
local fields = {'job_id', job_id, 'function', function_name, 'status', status,
  'input', input, 'progress', '0', 'attempts', '0', 'max_attempts', max_attempts,
  'created_at', created_at}
local optional = {idempotency_key = idempotency_key, next_job_id = next_job_id,
  previous_job_id = previous_job_id, fingerprint = fingerprint, tenant = tenant,
  entry_id = entry, not_before = not_before, callback_url = callback_url}
for name, value in pairs(optional) do
  if value ~= '' then
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
end
if chain ~= '[]' then
  fields[#fields + 1] = 'then'
  fields[#fields + 1] = chain
end
redis.call('HSET', job_hash, unpack(fields))
changed(job_hash)
if idempotency_key ~= '' then
  redis.call('SET', idempotency, job_id, 'EX', idempotency_ttl)
end
if upload_ttl ~= '' then
  redis.call('EXPIRE', upload, upload_ttl)
end
return {status, job_id}
