--[[
  Counts a failed authentication from an IP; the Nth within the window bans the IP
  (Storage.recordAuthFailure). Every node reads the same ban.

  KEYS[1] authfail:<ip>   KEYS[2] ban:<ip>
  ARGV[1] now   ARGV[2] failures that ban   ARGV[3] window, ms   ARGV[4] ban length, ms
  ARGV[5] a member name unique to this failure   ARGV[6] grace before Redis deletes the keys, ms

  Returns the time the ban ends, or nil.
]]
local now, window = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[6]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then return nil end
local untilAt = now + tonumber(ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], untilAt, 'PX', tonumber(ARGV[4]) + tonumber(ARGV[6]))
return untilAt
