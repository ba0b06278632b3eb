--[[
  Puts every active task back in its queue (Storage.recoverInFlight). Only for a deployment with
  a single process: on shared Redis the sweep requeues leases that ran out instead.

  KEYS[1] active
  ARGV[1] prefix

  Returns the number of tasks requeued.
]]
local prefix, n = ARGV[1], 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = prefix .. 'task:' .. id
  local t = redis.call('HMGET', key, 'state', 'type', 'available')
  if t[1] == 'active' then
    redis.call('HDEL', key, 'lease', 'leaseUntil')
    redis.call('HSET', key, 'state', 'queued')
    redis.call('ZADD', prefix .. 'queue:' .. t[2], t[3], id)
    n = n + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
return n
