-- Remove an entry that names no job of this function (a consumer read it): acknowledged
-- and deleted as a finished one is, lag kept (remove_entry).
local stream = KEYS[1]
local group, entry_id = ARGV[1], ARGV[2]
remove_entry(stream, group, entry_id)
return 1
