--[[
  Remembers a bad proxy or sitekey/pageurl pair until a time (Storage.markBad).

  KEYS[1] mark:<kind>:<key>   KEYS[2] marks
  ARGV[1] <kind>:<key>   ARGV[2] until   ARGV[3] TTL, ms

  Returns 1.
]]
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
