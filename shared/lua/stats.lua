-- A function's numbers at one instant, read in one round trip (shared/function_stats.py):
-- Returns {backlog, lag (-1: Redis says nil, -2: no group or Redis < 7.0), pending,
--          consumers alive, ms the oldest job not yet started has waited (-1: none),
--          scheduled, retrying, dead letters, paused (1/0), held, the metrics hash (flat),
--          the fields of each histogram's buckets (prelude.lua's histogram decides them)}
local stream, scheduled, retrying, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local paused, metrics, consumers, held = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local group, alive_ms = ARGV[1], tonumber(ARGV[2])
local now = redis_ms()
local lag, pending, last_delivered = -2, 0, nil
local groups = redis.pcall('XINFO', 'GROUPS', stream)
if type(groups) == 'table' and not groups.err then
  for _, info in ipairs(groups) do
    local fields = {}
    for i = 1, #info, 2 do
      fields[info[i]] = info[i + 1]
    end
    if fields['name'] == group then
      pending, last_delivered = fields['pending'], fields['last-delivered-id']
      if fields['entries-read'] ~= nil then -- Redis 7.0 and later
        lag = fields['lag'] or -1
      end
    end
  end
end
-- The oldest entry never delivered: the first after the group's last delivered one.
local first
if last_delivered then
  first = redis.call('XRANGE', stream, '(' .. last_delivered, '+', 'COUNT', 1)[1]
else
  first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
end
local waited = -1
if first then
  waited = math.max(0, now - tonumber(string.match(first[1], '^(%d+)')))
end
-- A job held back by a pause has not started either, and may be older. One that is no
-- longer held (its hash says: not queued, or not marked) is dropped: a job the consumer
-- still running it completed, not knowing another's claim had held it meanwhile.
local job_prefix = string.sub(stream, 1, -7) .. 'job:'
for _ = 1, 10 do
  local oldest = redis.call('ZRANGE', held, 0, 0, 'WITHSCORES')
  if not oldest[1] then
    break
  end
  local job = redis.call('HMGET', job_prefix .. oldest[1], 'status', 'held')
  if job[1] == 'queued' and job[2] then
    waited = math.max(waited, now - tonumber(oldest[2]))
    break
  end
  redis.call('ZREM', held, oldest[1])
end
local alive = 0
local seen = redis.call('HGETALL', consumers)
for i = 2, #seen, 2 do
  if now - tonumber(seen[i]) <= alive_ms then
    alive = alive + 1
  end
end
return {redis.call('XLEN', stream), lag, pending, alive, waited,
  redis.call('ZCARD', scheduled), redis.call('ZCARD', retrying), redis.call('XLEN', dead),
  redis.call('EXISTS', paused), redis.call('ZCARD', held), redis.call('HGETALL', metrics),
  histogram('job_duration_seconds').fields, histogram('queue_wait_seconds').fields}
