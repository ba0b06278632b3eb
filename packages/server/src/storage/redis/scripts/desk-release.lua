--[[
  Hands a held desk task back (HumanDesk.release), and tells consoles it can be taken.

  KEYS[1] desk:hold:<id>   KEYS[2] desk:holder:<operator>
  ARGV[1] prefix   ARGV[2] operator

  Returns 1, or 0 when the operator does not hold the task.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[1] .. 'desk:available', '1')
return 1
