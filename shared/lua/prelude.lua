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

-- A batch's calls (shared/scripts.py runs up to 128 in one script) add up what they count
-- here, in ``batch``; flush_batch, run by the batch loop after the last call, writes it: a
-- few writes per batch rather than several per job. ``prefix``: a function's keys less
-- their last part. Returns the function's counts: metrics (fields of its metrics hash)
-- and minute (outcomes of this minute).
local function counts_of(prefix)
  batch.counts = batch.counts or {}
  local counts = batch.counts[prefix]
  if not counts then
    counts = {metrics = {}, minute = {}}
    batch.counts[prefix] = counts
  end
  return counts
end

-- A function's keys less their last part, from its stream's key ("...:stream").
local function prefix_of(stream)
  return string.sub(stream, 1, -7)
end

-- Whether the function is paused, asked once per batch (nothing outside it runs meanwhile).
local function is_paused(prefix)
  batch.paused = batch.paused or {}
  local paused = batch.paused[prefix]
  if paused == nil then
    paused = redis.call('EXISTS', prefix .. 'paused') == 1
    batch.paused[prefix] = paused
  end
  return paused
end

-- Milliseconds since the epoch by Redis's clock (the clock that stamped the entry ids);
-- one reading per batch, which runs in an instant.
local function redis_ms()
  if not batch.now_ms then
    local t = redis.call('TIME')
    batch.now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return batch.now_ms
end

-- A finished entry is acknowledged and deleted, so XLEN stays the backlog. pcall: a job
-- cancelled before any consumer started has no group to acknowledge in. An entry not
-- pending (XACK 0) was never delivered: a job cancelled while queued. Each deletion is
-- counted for keep_lag.
local function remove_entry(stream, group, entry_id)
  local acked = redis.pcall('XACK', stream, group, entry_id)
  if redis.call('XDEL', stream, entry_id) == 1 then
    batch.lag = batch.lag or {}
    batch.lag[stream] = (batch.lag[stream] or 0) + (acked == 1 and 0 or 1)
  end
end

-- Keep XINFO GROUPS' lag (what KEDA scales on) a number after a batch's XDELs. Redis 7.0
-- reports it as nil once the stream's latest deletion is at or after the group's last
-- delivered entry; telling the stream that nothing was deleted (MAXDELETEDID 0-1, before
-- any entry) and, for each entry deleted undelivered, that one fewer was added, keeps lag
-- = entries not yet delivered. Redis 6.2 has no lag (and no such field): nothing to do.
local function keep_lag(stream, undelivered)
  local info = redis.call('XINFO', 'STREAM', stream)
  local fields = {}
  for i = 1, #info, 2 do
    fields[info[i]] = info[i + 1]
  end
  if fields['max-deleted-entry-id'] == nil then
    return
  end
  redis.call('XSETID', stream, fields['last-generated-id'], 'ENTRIESADDED',
    tonumber(fields['entries-added']) - undelivered, 'MAXDELETEDID', '0-1')
end

-- Operation metrics, in the function's metrics hash (shared/function_stats.py reads them):
-- jobs:<outcome> counters, and histograms as <name>:le:<bound> (jobs in that bucket alone,
-- not cumulative) and <name>:sum_us (microseconds: a job of a few hundred microseconds
-- still adds to it). The buckets are decided here: upper bounds in microseconds and their
-- fields (bounds in seconds), the last +Inf. Literals: a batch builds them once.
local function histogram(name)
  batch.histograms = batch.histograms or {}
  local found = batch.histograms[name]
  if found then
    return found
  end
  if name == 'job_duration_seconds' then
    found = {us = {1e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 3e7, 6e7, 1.2e8, 3e8, 6e8, 1.8e9,
      math.huge}, fields = {'job_duration_seconds:le:0.1',
      'job_duration_seconds:le:0.5', 'job_duration_seconds:le:1',
      'job_duration_seconds:le:2.5', 'job_duration_seconds:le:5', 'job_duration_seconds:le:10',
      'job_duration_seconds:le:30', 'job_duration_seconds:le:60',
      'job_duration_seconds:le:120', 'job_duration_seconds:le:300',
      'job_duration_seconds:le:600', 'job_duration_seconds:le:1800',
      'job_duration_seconds:le:+Inf'}, sum = 'job_duration_seconds:sum_us'}
  else
    found = {us = {1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 1e7, 3e7, 6e7, 3e8, 9e8, 3.6e9, math.huge},
      fields = {'queue_wait_seconds:le:0.01', 'queue_wait_seconds:le:0.05',
      'queue_wait_seconds:le:0.1', 'queue_wait_seconds:le:0.5', 'queue_wait_seconds:le:1',
      'queue_wait_seconds:le:5', 'queue_wait_seconds:le:10', 'queue_wait_seconds:le:30',
      'queue_wait_seconds:le:60', 'queue_wait_seconds:le:300', 'queue_wait_seconds:le:900',
      'queue_wait_seconds:le:3600', 'queue_wait_seconds:le:+Inf'},
      sum = 'queue_wait_seconds:sum_us'}
  end
  batch.histograms[name] = found
  return found
end

local function observe(prefix, name, us)
  local found, fields = histogram(name), counts_of(prefix).metrics
  local i, bounds = 1, found.us
  while us > bounds[i] do
    i = i + 1
  end
  local field = found.fields[i]
  fields[field] = (fields[field] or 0) + 1
  fields[found.sum] = (fields[found.sum] or 0) + us
end

-- One job (or attempt, for retried) of the outcome: in the counter since the start
-- (jobs:<outcome>) and in this minute's hash, which the dashboard's charts read.
local function count_outcome(prefix, outcome)
  local counts = counts_of(prefix)
  local field = 'jobs:' .. outcome
  counts.metrics[field] = (counts.metrics[field] or 0) + 1
  counts.minute[outcome] = (counts.minute[outcome] or 0) + 1
end

-- What the batch's calls counted, written; lag kept for the streams they deleted from.
local function flush_batch()
  for prefix, counts in pairs(batch.counts or {}) do
    local key = prefix .. 'metrics'
    for field, n in pairs(counts.metrics) do
      redis.call('HINCRBY', key, field, n)
    end
    if next(counts.minute) then
      key = prefix .. 'minute:' .. math.floor(redis_ms() / 60000)
      for outcome, n in pairs(counts.minute) do
        redis.call('HINCRBY', key, outcome, n)
      end
      redis.call('EXPIRE', key, 3900) -- an hour of them, and a little
    end
  end
  for stream, undelivered in pairs(batch.lag or {}) do
    keep_lag(stream, undelivered)
  end
end

-- A job held back by a pause (start.lua) is no longer: it starts or ends.
local function unhold(prefix, job)
  redis.call('ZREM', prefix .. 'held', job.job_id)
  redis.call('HDEL', job.hash, 'held')
end

-- An attempt began on a job whose status was ``was``: how long it waited in the queue,
-- counted once (from its entry's id, stamped when it was queued; ``waited``: counted
-- already, before a release put it back); it no longer waits to be retried, nor is it
-- held back by a pause. Returns the fields start.lua writes for it.
local function attempt_began(prefix, job, was, waited, held)
  if was == 'retrying' then
    redis.call('ZREM', prefix .. 'retrying', job.job_id)
  elseif was == 'queued' and not waited then
    local queued_ms = tonumber(string.match(job.entry_id, '^(%d+)'))
    observe(prefix, 'queue_wait_seconds', math.max(0, redis_ms() - queued_ms) * 1000)
  end
  if held then
    unhold(prefix, job)
  end
end

-- An attempt ended after running ``duration_us`` (the consumer's measure of its handler).
local function attempt_ended(prefix, duration_us)
  if duration_us ~= '' then
    observe(prefix, 'job_duration_seconds', tonumber(duration_us))
  end
end

-- The job's status expires after ttl, and so do the keys keys[first..] that live as long
-- as it, but its upload is deleted (it has served its purpose; an upload is the largest
-- thing a job keeps) unless ``keep_upload``: a dead-lettered job's stays, expiring with
-- it, so a replay can run it again. An upload key is told by what follows its hash tag
-- (the first "}": namespaces and function names hold none), so an Idempotency-Key holding
-- "}:upload:" is not taken for one.
local function expire_with_job(job_hash, keys, first, ttl, keep_upload)
  redis.call('EXPIRE', job_hash, ttl)
  for i = first, #keys do
    local tag = string.find(keys[i], '}', 1, true)
    if string.sub(keys[i], tag + 1, tag + 8) == ':upload:' and not keep_upload then
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
  redis.call('XADD', prefix_of(job.stream) .. 'chain', '*', 'job_id', job.job_id,
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
  local key = prefix_of(job.stream) .. 'stored:' .. tenant
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
  local prefix = prefix_of(job.stream)
  if job.entry_id and job.entry_id ~= '' then
    remove_entry(job.stream, job.group, job.entry_id)
  else -- a delayed job, cancelled before it was due: not on the stream yet
    redis.call('ZREM', prefix .. 'scheduled', job.job_id)
  end
  redis.call('HSET', job.hash, 'status', status, 'finished_at', job.now, 'consumer', '', ...)
  changed(job.hash)
  expire_with_job(job.hash, job.keys, job.ends_from, job.ttl, job.keep_upload)
  job_left(job, prefix)
  if job.was == 'retrying' then -- the status it had: cancelled while waiting to retry
    redis.call('ZREM', prefix .. 'retrying', job.job_id)
  end
  if job.held then -- held back by a pause (start.lua), then cancelled
    unhold(prefix, job)
  end
  count_outcome(prefix, status)
  if status == 'failed' then -- newest first, once (a replayed job may fail again)
    redis.call('LREM', prefix .. 'failures', 0, job.job_id)
    redis.call('LPUSH', prefix .. 'failures', job.job_id)
    redis.call('LTRIM', prefix .. 'failures', 0, 49)
  end
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
  job.keep_upload = true -- for a replay
  local follows = end_job(job, 'failed', 'error', err)
  count_outcome(prefix_of(job.stream), 'dead_lettered')
  redis.call('XADD', job.dead, 'MAXLEN', job.dead_max, '*', 'job_id', job.job_id,
    'entry_id', job.entry_id, 'error', err, 'attempts', tostring(attempts),
    unpack(tenant_field(job)))
  return follows
end
