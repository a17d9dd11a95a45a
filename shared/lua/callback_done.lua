-- Record how a webhook delivery attempt went (consumers/callbacks.py), if its claim
-- (callback_claim.lua) still holds: the member's score is still the lease's. Writes the
-- job's callback field {status, attempts, last_error} and removes the member (delivered,
-- failed) or sets when it is next due (retry). An expired job hash is never recreated:
-- its member is dropped.
-- Returns "done", "stale" (the lease was over and another deliverer took it) or "gone".
local callbacks, job_hash = KEYS[1], KEYS[2]
local job_id, outcome = ARGV[1], ARGV[2] -- outcome: delivered | retry | failed
local attempts, last_error = tonumber(ARGV[3]), ARGV[4] -- last_error: "" for none
local next_due_ms, claimed_until = ARGV[5], tonumber(ARGV[6]) -- next_due_ms: for retry
local score = redis.call('ZSCORE', callbacks, job_id)
if not score or tonumber(score) ~= claimed_until then
  return 'stale'
end
if redis.call('EXISTS', job_hash) == 0 then
  redis.call('ZREM', callbacks, job_id)
  return 'gone'
end
local status = outcome
if outcome == 'retry' then
  status = 'pending'
  redis.call('ZADD', callbacks, next_due_ms, job_id)
else
  redis.call('ZREM', callbacks, job_id)
end
-- Written by hand, not cjson.encode: its keys keep this order (prelude.lua's job_left).
local err = 'null'
if last_error ~= '' then
  err = cjson.encode(last_error)
end
redis.call('HSET', job_hash, 'callback', '{"status":' .. cjson.encode(status) .. ',"attempts":'
  .. string.format('%d', attempts) .. ',"last_error":' .. err .. '}')
changed(job_hash)
return 'done'
