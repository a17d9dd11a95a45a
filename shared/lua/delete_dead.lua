-- Delete one dead letter (shared/dead_letters.py), if it is the caller's tenant's.
-- Returns 1 deleted | 0 missing (or another tenant's)
local dead = KEYS[1]
local entry_id = ARGV[1]
local tenant = ARGV[2] -- the caller's tenant; absent: any tenant's entry (an admin)
if tenant then
  local found = redis.call('XRANGE', dead, entry_id, entry_id)
  if #found == 0 then
    return 0
  end
  local fields, entry_tenant = found[1][2], ''
  for i = 1, #fields, 2 do
    if fields[i] == 'tenant' then entry_tenant = fields[i + 1] end
  end
  if entry_tenant ~= tenant then
    return 0
  end
end
return redis.call('XDEL', dead, entry_id)
