-- Forget consumers that are gone: in the group, no pending entries, and no word from them
-- for long. (A SIGKILLed consumer never says goodbye; it stayed in XINFO CONSUMERS.)
-- Live consumers say they are alive in their consumers hash twice per visibility timeout: XINFO's idle
-- cannot tell, as before Redis 7.2 a read that returns nothing does not reset it.
-- One script, so no entry can be delivered to a consumer between the look and the delete.
-- Returns the names forgotten.
local stream, consumers = KEYS[1], KEYS[2] -- consumers: name -> last said alive (ms)
local group, me = ARGV[1], ARGV[2]
-- now (ms), silence (ms) after which one is gone, most forgotten per call (bounds the
-- script's time)
local now, after, most = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function silent(name, idle)
  local said = redis.call('HGET', consumers, name)
  if said then
    return now - tonumber(said) >= after
  end
  return idle >= after -- never said anything here: only XINFO knows
end
local forgotten, listed = {}, {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  listed[info.name] = true
  if #forgotten < most and info.name ~= me and info.pending == 0
      and silent(info.name, info.idle) then
    redis.call('XGROUP', 'DELCONSUMER', stream, group, info.name)
    redis.call('HDEL', consumers, info.name)
    forgotten[#forgotten + 1] = info.name
  end
end
-- Word from consumers that are no longer in the group, and silent since.
local said = redis.call('HGETALL', consumers)
for i = 1, #said, 2 do
  if not listed[said[i]] and now - tonumber(said[i + 1]) >= after then
    redis.call('HDEL', consumers, said[i])
  end
end
return forgotten
