-- Claim the function's due webhook deliveries (consumers/callbacks.py): up to count
-- members of the callbacks set due by now are leased, re-scored to now + lease_ms, so
-- another deliverer leaves them alone and one that dies mid-delivery leaves them to be
-- tried again once the lease is over. A member whose job hash has expired, or holds no
-- callback_url, is dropped.
-- Returns {next due (ms; false if the set is empty), then one {job id, callback_url,
-- claimed_until, the job's fields...} per claim}; claimed_until is the lease's score,
-- which callback_done.lua checks so a deliverer whose lease was taken over writes nothing.
local callbacks = KEYS[1] -- job id -> when its next delivery is due (ms)
local now_ms, lease_ms, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local job_prefix = ARGV[4] -- a job hash's key less the job id (same hash tag)
local fields = {unpack(ARGV, 5)} -- the job hash's fields to return (the status's)
local claimed = {false}
local due = redis.call('ZRANGEBYSCORE', callbacks, '-inf', now_ms, 'LIMIT', 0, count)
local until_ms = now_ms + lease_ms
for _, job_id in ipairs(due) do
  local job_hash = job_prefix .. job_id
  local url = redis.call('HGET', job_hash, 'callback_url')
  if not url then -- expired, or never had one: nothing to tell anyone
    redis.call('ZREM', callbacks, job_id)
  else
    redis.call('ZADD', callbacks, until_ms, job_id)
    local claim = {job_id, url, until_ms}
    if #fields > 0 then
      local values = redis.call('HMGET', job_hash, unpack(fields))
      for i = 1, #fields do
        claim[3 + i] = values[i]
      end
    end
    claimed[#claimed + 1] = claim
  end
end
local first = redis.call('ZRANGEBYSCORE', callbacks, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if first[2] then
  claimed[1] = first[2]
end
return claimed
