-- What a consumer's lease on a running job says: whether it still owns the entry, and
-- whether the job was cancelled (the one way a consumer learns of a cancel, see
-- cancel.lua). With renew = "1" the lease is kept too: the entry's idle time is reset so
-- no other consumer claims it.
-- Returns 0 lease lost | 1 held | 2 held, but the job was cancelled
local stream, job_hash = KEYS[1], KEYS[2]
local group, consumer, entry_id, renew = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not owns(stream, group, consumer, entry_id) then
  return 0
end
if renew == '1' then
  redis.call('XCLAIM', stream, group, consumer, 0, entry_id, 'JUSTID')
end
if redis.call('HGET', job_hash, 'cancel') == '1' then
  return 2
end
return 1
