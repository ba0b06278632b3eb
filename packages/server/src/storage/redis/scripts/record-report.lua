--[[
  Records reportgood / reportbad once per solved task, and counts it for the solver that answered
  (Storage.recordReport).

  KEYS[1] task:<id>
  ARGV[1] prefix   ARGV[2] account id   ARGV[3] 'good' or 'bad'   ARGV[4] now

  Returns 'recorded' | 'duplicate' | 'not-solved' | 'not-found'
]]
local t = redis.call('HMGET', KEYS[1], 'account', 'state', 'report', 'solver', 'expires')
if not t[1] or t[1] ~= ARGV[2] or (t[5] and tonumber(t[5]) <= tonumber(ARGV[4])) then return 'not-found' end
if t[2] ~= 'solved' then return 'not-solved' end
if t[3] then return 'duplicate' end
redis.call('HSET', KEYS[1], 'report', ARGV[3])
if t[4] then redis.call('HINCRBY', ARGV[1] .. 'stats:' .. t[4], ARGV[3] == 'good' and 'reportedGood' or 'reportedBad', 1) end
return 'recorded'
