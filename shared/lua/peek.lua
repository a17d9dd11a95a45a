-- The entries the group would deliver next, without delivering them (nothing changes):
-- a busy consumer learns which jobs it will start when a slot frees.
-- KEYS: 1 stream; ARGV: 1 group, 2 count
-- Returns the entries as XRANGE does ({} when the stream or group is missing).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then
    return redis.call('XRANGE', KEYS[1], '(' .. fields['last-delivered-id'], '+', 'COUNT', ARGV[2])
  end
end
return {}
