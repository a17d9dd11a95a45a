-- Count bytes a tenant is about to store through one function, if its quota holds them
-- (shared/storage_quota.py): the ledger is a hash of hour -> bytes, each under the hour by
-- which its bytes are gone. Hours that have passed are dropped; what the tenant stores
-- here (the rest) plus ``elsewhere`` (its other functions', read just before) plus these
-- bytes must stay within ``limit`` ("" for no check: a correction, which may be negative).
-- Returns {1, bytes stored after} | {0, bytes stored}
local key = KEYS[1]
local now_hour, until_hour, bytes = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local limit, elsewhere, ttl = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local fields = redis.call('HGETALL', key)
local here = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i]) <= now_hour then
    redis.call('HDEL', key, fields[i])
  else
    here = here + tonumber(fields[i + 1])
  end
end
if limit ~= '' and here + elsewhere + bytes > tonumber(limit) then
  return {0, here + elsewhere}
end
redis.call('HINCRBY', key, until_hour, bytes)
if redis.call('TTL', key) < ttl then -- only lengthened: other bytes may stay longer
  redis.call('EXPIRE', key, ttl)
end
return {1, here + elsewhere + bytes}
