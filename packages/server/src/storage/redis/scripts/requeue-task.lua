--[[
  Puts a leased task back in its queue (Storage.failTask with retryAt, Storage.releaseTask).

  KEYS[1] task:<id>   KEYS[2] active
  ARGV[1] prefix   ARGV[2] id   ARGV[3] lease id   ARGV[4] due at ('' keeps the task's own time)
  ARGV[5] '1' to take back the attempt (a release at shutdown, not a failure)

  Returns 1, or 0 when the lease was lost.
]]
local prefix, id = ARGV[1], ARGV[2]
local t = redis.call('HMGET', KEYS[1], 'state', 'lease', 'type', 'available')
if t[1] ~= 'active' or t[2] ~= ARGV[3] then return 0 end
local due = ARGV[4] ~= '' and ARGV[4] or t[4]
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
redis.call('HSET', KEYS[1], 'state', 'queued', 'available', due)
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', prefix .. 'queue:' .. t[3], due, id)
redis.call('PUBLISH', prefix .. 'wake', t[3])
return 1
