-- Queue a batch of one function's jobs in one atomic step, all or none: the batch must
-- fit under the backlog bound and the tenant's quota of jobs not yet ended as a whole.
-- What the jobs share comes once; then each job's id, input and follow-up id (or "").
-- As submit.lua writes one job, without an Idempotency-Key or an upload.
-- Returns {"queued" | "scheduled", n} | {"full", backlog} | {"quota", jobs not yet ended}
local stream, scheduled, active = KEYS[1], KEYS[2], KEYS[3]
local function_name, max_attempts, created_at = ARGV[1], ARGV[2], ARGV[3]
local max_backlog, chain, tenant = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local due_ms, not_before, callback_url = ARGV[7], ARGV[8], ARGV[9]
local max_active, active_elsewhere = ARGV[10], tonumber(ARGV[11])
local job_prefix = ARGV[12] -- a job hash's key less the job id (same hash tag)
local first = 13
local count = (#ARGV - first + 1) / 3
if max_active ~= '' then
  local mine = tonumber(redis.call('HGET', active, tenant) or '0')
  if mine + active_elsewhere + count > tonumber(max_active) then
    return {'quota', tostring(mine + active_elsewhere)}
  end
end
local backlog = redis.call('XLEN', stream) + redis.call('ZCARD', scheduled)
if backlog + count > max_backlog then
  return {'full', tostring(backlog)}
end
local status = due_ms ~= '' and 'scheduled' or 'queued'
local shared = {'function', function_name, 'status', status, 'progress', '0', 'attempts',
  '0', 'max_attempts', max_attempts, 'created_at', created_at}
local optional = {tenant = tenant, not_before = not_before, callback_url = callback_url}
for name, value in pairs(optional) do
  if value ~= '' then
    shared[#shared + 1] = name
    shared[#shared + 1] = value
  end
end
if chain ~= '[]' then
  shared[#shared + 1] = 'then'
  shared[#shared + 1] = chain
end
local size = #shared
for i = first, #ARGV, 3 do
  local job_id, next_job_id = ARGV[i], ARGV[i + 2]
  local job_hash = job_prefix .. job_id
  shared[size + 1], shared[size + 2] = 'job_id', job_id
  shared[size + 3], shared[size + 4] = 'input', ARGV[i + 1]
  local n = size + 4
  if due_ms ~= '' then
    redis.call('ZADD', scheduled, due_ms, job_id)
  else
    shared[n + 1] = 'entry_id'
    shared[n + 2] = redis.call('XADD', stream, '*', 'job_id', job_id)
    n = n + 2
  end
  if next_job_id ~= '' then
    shared[n + 1], shared[n + 2] = 'next_job_id', next_job_id
    n = n + 2
  end
  redis.call('HSET', job_hash, unpack(shared, 1, n))
  changed(job_hash)
end
if tenant ~= '' then
  redis.call('HINCRBY', active, tenant, count)
end
return {status, count}
