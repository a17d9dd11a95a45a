-- Queue the delayed jobs that are due (status scheduled -> queued, onto the stream), at
-- most ``count`` of them; one cancelled meanwhile (no longer scheduled) is only dropped.
-- With ``sample`` "1", also notes the backlog and the jobs running in this minute's hash
-- (the highest seen in the minute), for the dashboard's charts (the caller asks every few
-- seconds, not at every look).
-- Returns {jobs queued, score of the next one not yet due or "", 1 if the function is
-- paused else 0}: a paused function's due jobs are queued too, only not started.
local stream, scheduled = KEYS[1], KEYS[2]
local now_ms, count, job_prefix, sample = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local group = ARGV[5]
local prefix = prefix_of(stream)
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
if sample == '1' then
  local minute = prefix .. 'minute:' .. math.floor(redis_ms() / 60000)
  local pending = redis.pcall('XPENDING', stream, group)
  local running = 0
  if not pending.err then -- no group yet: an error reply, nothing running
    running = math.max(0, pending[1] - redis.call('ZCARD', prefix .. 'retrying')
      - redis.call('ZCARD', prefix .. 'held'))
  end
  -- The highest of the minute's samples: a burst between two of them still shows.
  local noted = redis.call('HMGET', minute, 'backlog', 'running')
  redis.call('HSET', minute, 'backlog',
    math.max(redis.call('XLEN', stream), tonumber(noted[1] or '0')),
    'running', math.max(running, tonumber(noted[2] or '0')))
  redis.call('EXPIRE', minute, 3900)
end
local next_due = redis.call('ZRANGE', scheduled, 0, 0, 'WITHSCORES')
return {queued, next_due[2] or '', redis.call('EXISTS', prefix .. 'paused')}
