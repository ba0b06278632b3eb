--[[
  Extends a lease (Storage.renewLease).

  KEYS[1] task:<id>   KEYS[2] active
  ARGV[1] id   ARGV[2] lease id   ARGV[3] new end of the lease

  Returns 1, or 0 when the lease was lost.
]]
local t = redis.call('HMGET', KEYS[1], 'state', 'lease')
if t[1] ~= 'active' or t[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
