-- Read this consumer's next entries of one stream and begin an attempt on each, as
-- start.lua does: a read and its starts in one round trip, for a consumer that expects
-- entries waiting. Never blocks: an empty stream gives an empty reply.
-- A job's keys are named here from the id in its entry (the reader cannot know them before
-- the read); they carry the stream's hash tag, so they are in its slot.
-- The upload of the first job to run is copied to copy_to (for 60 s at most), for a GET in
-- the same round trip: returned by the script, 168 KB cost Redis more than a round trip.
-- Returns one {entry id, job id, start.lua's reply, "1" if its upload is in copy_to} per
-- entry read; the reply is {"dropped"} for an entry that names no job of this function
-- (acknowledged and deleted).
local stream, dead = KEYS[1], KEYS[2]
local copy_to = KEYS[3] -- this consumer's copy of an upload (a function taking a document)
local group, consumer, count = ARGV[1], ARGV[2], ARGV[3]
-- start.lua's: now (ms), now (RFC 3339), visibility (ms), result ttl (s), dead letters kept
local now_ms, now, visibility_ms, result_ttl, dead_max = ARGV[4], ARGV[5], ARGV[6], ARGV[7],
  ARGV[8]
local function_name = ARGV[9]
-- Key prefixes: a job hash's, an upload's and an artifact index's key less the job id.
local job_prefix, upload_prefix, artifacts_prefix = ARGV[10], ARGV[11], ARGV[12]
local copy_max = tonumber(ARGV[13]) -- largest upload to copy
local taken = {}
if is_paused(prefix_of(stream)) then
  return taken -- paused: nothing read (the consumer learns of it at its next look)
end
local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
  'STREAMS', stream, '>')
if not read then
  return taken
end
local start_args = {group, consumer, '', now_ms, now, visibility_ms, result_ttl, dead_max}
local id_pattern = '^' .. function_name .. '%-' .. string.rep('[0-9a-f]', 32) .. '$'
local copied = copy_to == nil
for _, entry in ipairs(read[1][2]) do
  local fields, job_id = entry[2], ''
  for i = 1, #fields, 2 do
    if fields[i] == 'job_id' then job_id = fields[i + 1] end
  end
  local reply
  if not string.match(job_id, id_pattern) then
    remove_entry(stream, group, entry[1])
    reply = {'dropped'}
  else
    local keys = {stream, job_prefix .. job_id, dead}
    if copy_to then
      keys[4] = upload_prefix .. job_id
      keys[5] = artifacts_prefix .. job_id
    end
    start_args[3] = entry[1]
    reply = start(keys, start_args)
  end
  local in_copy = '0'
  if reply[1] == 'run' and not copied then
    local upload = upload_prefix .. job_id
    if redis.call('STRLEN', upload) <= copy_max
        and redis.call('COPY', upload, copy_to, 'REPLACE') == 1 then
      redis.call('PEXPIRE', copy_to, 60000)
      copied, in_copy = true, '1'
    end
  end
  taken[#taken + 1] = {entry[1], job_id, reply, in_copy}
end
return taken
