-- Forget consumers that are gone: in the group, no pending entries, silent for long.
-- (A SIGKILLed consumer never says goodbye; it stayed in XINFO CONSUMERS for ever.)
-- One script, so no entry can be delivered to a consumer between the look and the delete;
-- a live consumer forgotten anyway is made again by its next XREADGROUP.
-- KEYS: 1 stream
-- ARGV: 1 group, 2 this consumer (kept), 3 idle time (ms) after which one is gone
-- Returns the names forgotten.
local forgotten = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info.name ~= ARGV[2] and info.pending == 0 and info.idle >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
    forgotten[#forgotten + 1] = info.name
  end
end
return forgotten
