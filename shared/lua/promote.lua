-- Queue the delayed jobs that are due (status scheduled -> queued, onto the stream), at
-- most ``count`` of them; one cancelled meanwhile (no longer scheduled) is only dropped.
-- Returns {jobs queued, score of the next one not yet due or ""}
local stream, scheduled = KEYS[1], KEYS[2]
local now_ms, count, job_prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local due = redis.call('ZRANGEBYSCORE', scheduled, '-inf', now_ms, 'LIMIT', 0, count)
local queued = 0
for _, job_id in ipairs(due) do
  redis.call('ZREM', scheduled, job_id)
  local job_hash = job_prefix .. job_id
  if redis.call('HGET', job_hash, 'status') == 'scheduled' then
    local entry = redis.call('XADD', stream, '*', 'job_id', job_id)
    redis.call('HSET', job_hash, 'status', 'queued', 'entry_id', entry)
    changed(job_hash)
    queued = queued + 1
  end
end
local next_due = redis.call('ZRANGE', scheduled, 0, 0, 'WITHSCORES')
return {queued, next_due[2] or ''}
