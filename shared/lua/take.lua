-- Read this consumer's next entries of one stream and begin an attempt on each, as
-- start.lua does: a read and its starts in one round trip, for a consumer that expects
-- entries waiting. Never blocks: an empty stream gives an empty reply.
-- KEYS: 1 stream, 2 dead-letter stream, 3 this consumer's copy of an upload (only for a
--       function that takes a document)
-- ARGV: 1 group, 2 consumer, 3 count, 4 now (ms), 5 now (RFC 3339),
--       6 visibility timeout (ms), 7 result ttl (s), 8 entries the dead-letter stream keeps,
--       9 function name, 10 a job hash's key less the job id, 11 an upload's key less the
--       job id, 12 an artifact index's key less the job id, 13 largest upload to copy
-- A job's keys are named here from the id in its entry (the reader cannot know them before
-- the read); they carry the stream's hash tag, so they are in its slot.
-- The upload of the first job to run is copied to KEYS[3] (for 60 s at most), for a GET in
-- the same round trip: returned by the script, 168 KB cost Redis more than a round trip.
-- Returns one {entry id, job id, start.lua's reply, "1" if its upload is in KEYS[3]} per
-- entry read; the reply is {"dropped"} for an entry that names no job of this function
-- (acknowledged and deleted).
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
  'STREAMS', KEYS[1], '>')
local taken = {}
if not read then
  return taken
end
local start_args = {ARGV[1], ARGV[2], '', ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]}
local id_pattern = '^' .. ARGV[9] .. '%-' .. string.rep('[0-9a-f]', 32) .. '$'
local copy_to = KEYS[3]
local copied = copy_to == nil
for _, entry in ipairs(read[1][2]) do
  local fields, job_id = entry[2], ''
  for i = 1, #fields, 2 do
    if fields[i] == 'job_id' then job_id = fields[i + 1] end
  end
  local reply
  if not string.match(job_id, id_pattern) then
    redis.call('XACK', KEYS[1], ARGV[1], entry[1])
    redis.call('XDEL', KEYS[1], entry[1])
    reply = {'dropped'}
  else
    local keys = {KEYS[1], ARGV[10] .. job_id, KEYS[2]}
    if copy_to then
      keys[4] = ARGV[11] .. job_id
      keys[5] = ARGV[12] .. job_id
    end
    start_args[3] = entry[1]
    reply = start(keys, start_args)
  end
  local in_copy = '0'
  if reply[1] == 'run' and not copied then
    local upload = ARGV[11] .. job_id
    if redis.call('STRLEN', upload) <= tonumber(ARGV[13])
        and redis.call('COPY', upload, copy_to, 'REPLACE') == 1 then
      redis.call('PEXPIRE', copy_to, 60000)
      copied, in_copy = true, '1'
    end
  end
  taken[#taken + 1] = {entry[1], job_id, reply, in_copy}
end
return taken
