-- Replay one dead letter (shared/dead_letters.py): the same job id queued again with fresh
-- attempts, as if just submitted, and its dead entry deleted. Only a job whose status is
-- still "failed" is replayed; an expired one ("gone") or one that is no longer failed
-- keeps its dead entry, so an operator can still read why it died. No backlog bound and
-- no tenant quota: a replay is an operator's act on jobs that were counted once already.
-- Another tenant's entry is "missing" (as one that does not exist).
-- Returns {"replayed", job_id} | {"missing"} | {"gone", job_id} | {"not_failed", job_id}
--       | {"no_document", job_id} (a document function's job whose upload is gone)
local dead, stream, active, callbacks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local entry_id = ARGV[1]
-- Key prefixes (same hash tag): a job hash's and an upload's less the job id; the
-- upload's is "" for a function that takes no document.
local job_prefix, upload_prefix = ARGV[2], ARGV[3]
local tenant = ARGV[4] -- the caller's tenant; absent: any tenant's entry (an admin)
local found = redis.call('XRANGE', dead, entry_id, entry_id)
if #found == 0 then
  return {'missing'}
end
local fields, job_id, entry_tenant = found[1][2], '', ''
for i = 1, #fields, 2 do
  if fields[i] == 'job_id' then job_id = fields[i + 1] end
  if fields[i] == 'tenant' then entry_tenant = fields[i + 1] end
end
if tenant and entry_tenant ~= tenant then
  return {'missing'}
end
local job_hash = job_prefix .. job_id
local status = redis.call('HGET', job_hash, 'status')
if not status then
  return {'gone', job_id}
end
if status ~= 'failed' then
  return {'not_failed', job_id}
end
if upload_prefix ~= '' and redis.call('EXISTS', upload_prefix .. job_id) == 0 then
  return {'no_document', job_id}
end
local entry = redis.call('XADD', stream, '*', 'job_id', job_id)
redis.call('HSET', job_hash, 'status', 'queued', 'attempts', '0', 'progress', '0',
  'entry_id', entry)
-- What the attempts before wrote; not_before (a delayed job's due time) and the chain stay.
redis.call('HDEL', job_hash, 'error', 'result', 'message', 'started_at', 'finished_at',
  'consumer', 'cancel', 'not_before_ms', 'callback', 'queue_waited', 'held')
-- The end gave it an expiry (prelude.lua's end_job); the next end gives it one again.
redis.call('PERSIST', job_hash)
-- A delivery of the "failed" status not yet made is not made (one claimed now finds its
-- claim gone, callback_done.lua); the new end schedules its own (prelude.lua's job_left).
redis.call('ZREM', callbacks, job_id)
-- No longer among the function's recent failures (a new failure lists it again).
redis.call('LREM', prefix_of(stream) .. 'failures', 0, job_id)
-- One job more of its tenant not yet ended, as submit.lua counts; job_left takes it off.
local job_tenant = tenant_field({hash = job_hash})[2]
if job_tenant then
  redis.call('HINCRBY', active, job_tenant, 1)
end
changed(job_hash)
redis.call('XDEL', dead, entry_id)
return {'replayed', job_id}
