--[[
  The holder's verdict on a desk task (HumanDesk.settle): removes the task and publishes the verdict.

  KEYS[1] desk:order   KEYS[2] desk:items   KEYS[3] desk:meta   KEYS[4] desk:hold:<id>
  ARGV[1] prefix   ARGV[2] task id   ARGV[3] operator   ARGV[4] the verdict message (JSON)

  Returns 1, or 0 when the operator does not hold the task (its lease ran out, or never held it).
]]
local p, id, operator = ARGV[1], ARGV[2], ARGV[3]
if redis.call('GET', KEYS[4]) ~= operator then return 0 end
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
redis.call('DEL', KEYS[4], p .. 'desk:offered:' .. id, p .. 'desk:holder:' .. operator)
redis.call('PUBLISH', p .. 'desk:verdicts', ARGV[4])
return 1
