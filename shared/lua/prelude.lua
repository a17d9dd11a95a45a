-- Functions every script may call: shared/scripts.py puts them after each script's body
-- (declared on its first line). Each transition a job can make in more than one script
-- (ended, cancelled, dead-lettered) is written here once.
-- Only "local function" definitions at the top level: the loader declares their names.

-- Tell whoever watches the job (the gateways' status streams, on the job hash's name as
-- channel) that its status or progress changed: they read it again.
local function changed(job_hash)
  redis.call('PUBLISH', job_hash, '1')
end

-- Whether the entry is pending to this consumer: only its owner may write about a job.
local function owns(stream, group, consumer, entry_id)
  return #redis.call('XPENDING', stream, group, entry_id, entry_id, 1, consumer) > 0
end

-- A finished entry is acknowledged and deleted, so XLEN stays the backlog. pcall: a job
-- cancelled before any consumer started has no group to acknowledge in.
local function remove_entry(stream, group, entry_id)
  redis.pcall('XACK', stream, group, entry_id)
  redis.call('XDEL', stream, entry_id)
end

-- The job's status expires after ttl, and so do the keys keys[first..] that live as long
-- as it, but its upload is deleted (it has served its purpose; an upload is the largest
-- thing a job keeps). An upload key is told by what follows its hash tag (the first "}":
-- namespaces and function names hold none), so an Idempotency-Key holding "}:upload:" is
-- not taken for one.
local function expire_with_job(job_hash, keys, first, ttl)
  redis.call('EXPIRE', job_hash, ttl)
  for i = first, #keys do
    local tag = string.find(keys[i], '}', 1, true)
    if string.sub(keys[i], tag + 1, tag + 8) == ':upload:' then
      redis.call('DEL', keys[i])
    else
      redis.call('EXPIRE', keys[i], ttl)
    end
  end
end

-- The job's tenant as the fields of an entry written about it: {"tenant", name}, or {}
-- for a job of no tenant (auth off), whose entries stay as they were before tenants.
local function tenant_field(job)
  if job.tenant == nil then
    job.tenant = redis.call('HGET', job.hash, 'tenant') or ''
  end
  if job.tenant == '' then
    return {}
  end
  return {'tenant', job.tenant}
end

-- A job that ended leaves its follow-up (whose id the client already has) to be queued,
-- or ended too if it did not succeed: an entry in the function's chain outbox, named from
-- its stream's key (same hash tag), with the outcome and the tenant the follow-up will
-- belong to (consumers/chains.py relays it). Returns true if there is a follow-up.
local function follow_up_ends(job, outcome)
  if not job.next_job_id or job.next_job_id == '' then
    return false
  end
  redis.call('XADD', string.sub(job.stream, 1, -7) .. 'chain', '*', 'job_id', job.job_id,
    'next_job_id', job.next_job_id, 'outcome', outcome, unpack(tenant_field(job)))
  return true
end

-- Bytes a tenant's job stored (its result and artifacts, kept for ttl), in the tenant's
-- ledger of the function under the hour by which they are gone (shared/storage_quota.py).
local function count_stored(job, bytes)
  local tenant = tenant_field(job)[2]
  if not tenant or bytes <= 0 then
    return
  end
  local key = string.sub(job.stream, 1, -7) .. 'stored:' .. tenant
  local gone_at = tonumber(redis.call('TIME')[1]) + job.ttl
  redis.call('HINCRBY', key, math.ceil(gone_at / 3600), bytes)
  if redis.call('TTL', key) < job.ttl + 3660 then -- only lengthened
    redis.call('EXPIRE', key, job.ttl + 3660)
  end
end

-- What a job's end changes beyond the job: one job fewer of its tenant not yet ended
-- (submit.lua counted it in), and its callback_url, if any, due to be told at once
-- (consumers/callbacks.py delivers it). ``prefix``: the function's keys less their last part.
local function job_left(job, prefix)
  local tenant = tenant_field(job)[2]
  if tenant then
    if redis.call('HINCRBY', prefix .. 'active', tenant, -1) <= 0 then
      redis.call('HDEL', prefix .. 'active', tenant)
    end
  end
  if redis.call('HEXISTS', job.hash, 'callback_url') == 1 then
    redis.call('ZADD', prefix .. 'callbacks', 0, job.job_id)
    redis.call('HSET', job.hash, 'callback', '{"status":"pending","attempts":0,"last_error":null}')
  end
end

-- The end of a job, whatever it is: the entry removed, the final status written once
-- (with the fields given), the keys expiring, the follow-up told. ``job`` names the job:
-- stream, group, entry_id, hash, job_id, next_job_id, now (RFC 3339), ttl (s), and keys
-- with ends_from (keys[ends_from..] end with the job).
-- Returns true if the follow-up waits in the outbox.
local function end_job(job, status, ...)
  local prefix = string.sub(job.stream, 1, -7) -- the function's keys less their last part
  if job.entry_id and job.entry_id ~= '' then
    remove_entry(job.stream, job.group, job.entry_id)
  else -- a delayed job, cancelled before it was due: not on the stream yet
    redis.call('ZREM', prefix .. 'scheduled', job.job_id)
  end
  redis.call('HSET', job.hash, 'status', status, 'finished_at', job.now, 'consumer', '', ...)
  changed(job.hash)
  expire_with_job(job.hash, job.keys, job.ends_from, job.ttl)
  job_left(job, prefix)
  return follow_up_ends(job, status)
end

-- A cancelled job ends here: queued or retrying when the cancel came (cancel.lua), or
-- running, stopped by its consumer (complete.lua) or found flagged after its consumer
-- died (start.lua). Its last error, if an attempt failed before, stays.
local function end_cancelled(job)
  return end_job(job, 'cancelled', 'cancel', '1')
end

-- The rule for giving up: a job gets max_attempts attempts, no more.
local function out_of_attempts(attempts, max_attempts)
  return tonumber(attempts) >= tonumber(max_attempts)
end

local function job_error(err_type, message)
  return cjson.encode({type = err_type, message = message})
end

-- A job that used its last attempt ends failed and dead-lettered, whether its last
-- attempt failed (fail.lua: the failure's type) or its consumer died in it (start.lua:
-- AttemptsExhausted). ``job`` as for end_job, with dead (the dead-letter stream) and
-- dead_max (entries it keeps). Returns true if the follow-up waits in the outbox.
local function dead_letter(job, err_type, message, attempts, max_attempts)
  local err = job_error(err_type, message .. ' (attempt ' .. attempts .. ' of ' .. max_attempts
    .. ', giving up)')
  local follows = end_job(job, 'failed', 'error', err)
  redis.call('XADD', job.dead, 'MAXLEN', job.dead_max, '*', 'job_id', job.job_id,
    'entry_id', job.entry_id, 'error', err, 'attempts', tostring(attempts),
    unpack(tenant_field(job)))
  return follows
end
