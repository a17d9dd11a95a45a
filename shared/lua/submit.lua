-- Queue a job in one atomic step: status hash + stream entry (+ idempotency key).
-- KEYS: 1 stream, 2 job hash, 3 idempotency key (ignored when ARGV[7] is ""),
--       4 the job's upload (kept until the job ends; may not exist)
-- ARGV: 1 job_id, 2 function, 3 input JSON, 4 max_attempts, 5 created_at, 6 max backlog,
--       7 idempotency key as given by the client ("" when none),
--       8 idempotency key ttl (s): a bound for jobs that never end; the end sets a shorter one,
--       9 follow-up functions (JSON list, "[]" for none), 10 the follow-up's job id or "",
--       11 the job this one follows or "", 12 ttl (s) of the job's upload, "" when none,
--       13 the request's fingerprint (with an idempotency key), 14 a job hash's key less
--       the job id (the key's job is found by its id, in this function's slot)
-- Returns {"queued", job_id} | {"existing", job_id} | {"reused", job_id} | {"full", backlog}
if ARGV[11] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  -- A follow-up relayed twice: the job exists already.
  return {'existing', ARGV[1]}
end
if ARGV[7] ~= '' then
  local existing = redis.call('GET', KEYS[3])
  -- A key whose job has expired names nothing: it is taken anew below.
  if existing and redis.call('EXISTS', ARGV[14] .. existing) == 1 then
    local fingerprint = redis.call('HGET', ARGV[14] .. existing, 'fingerprint')
    if fingerprint and fingerprint ~= ARGV[13] then
      return {'reused', existing}
    end
    return {'existing', existing}
  end
end
-- One XLEN per batch: the submissions before this one in the batch are counted on.
local backlog = batch[KEYS[1]] or redis.call('XLEN', KEYS[1])
if backlog >= tonumber(ARGV[6]) then
  return {'full', tostring(backlog)}
end
local entry = redis.call('XADD', KEYS[1], '*', 'job_id', ARGV[1])
batch[KEYS[1]] = backlog + 1
-- Fields still empty are left out (status readers take a missing field as empty): a
-- busy gateway writes thousands of these hashes a second.
local fields = {'job_id', ARGV[1], 'function', ARGV[2], 'status', 'queued', 'input', ARGV[3],
  'progress', '0', 'attempts', '0', 'max_attempts', ARGV[4], 'created_at', ARGV[5],
  'entry_id', entry}
local optional = {idempotency_key = ARGV[7], next_job_id = ARGV[10], previous_job_id = ARGV[11],
  fingerprint = ARGV[13]}
for name, value in pairs(optional) do
  if value ~= '' then
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
end
if ARGV[9] ~= '[]' then
  fields[#fields + 1] = 'then'
  fields[#fields + 1] = ARGV[9]
end
redis.call('HSET', KEYS[2], unpack(fields))
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[8])
end
if ARGV[12] ~= '' then
  redis.call('EXPIRE', KEYS[4], ARGV[12])
end
return {'queued', ARGV[1]}
