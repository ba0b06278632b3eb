--[[
  Leases a task on the human desk to an operator (HumanDesk.take).

  KEYS[1] desk:order   KEYS[2] desk:items   KEYS[3] desk:meta
  ARGV[1] prefix   ARGV[2] operator   ARGV[3] now   ARGV[4] lease length (ms)   ARGV[5] task types, comma-separated

  Returns the item's JSON: the one the operator already holds, else the oldest task of those types
  that no one holds and the operator was never offered (each task goes to each operator once);
  nil when there is none. Items past their
  deadline (their solver's process died) are removed on the way.
]]
local p, operator, now, leaseMs = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local holderKey = p .. 'desk:holder:' .. operator
local mine = redis.call('GET', holderKey)
if mine and redis.call('GET', p .. 'desk:hold:' .. mine) == operator then
  local item = redis.call('HGET', KEYS[2], mine)
  if item then return item end
end
local wanted = {}
for t in string.gmatch(ARGV[5], '[^,]+') do wanted[t] = true end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, 999)) do
  local meta = redis.call('HGET', KEYS[3], id)
  local type, deadline = string.match(meta or '', '^([^|]*)|(%d+)$')
  if not meta or tonumber(deadline) <= now then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('DEL', p .. 'desk:offered:' .. id)
  elseif wanted[type] and redis.call('EXISTS', p .. 'desk:hold:' .. id) == 0
      and redis.call('SISMEMBER', p .. 'desk:offered:' .. id, operator) == 0 then
    redis.call('SET', p .. 'desk:hold:' .. id, operator, 'PX', leaseMs)
    redis.call('SADD', p .. 'desk:offered:' .. id, operator)
    redis.call('PEXPIRE', p .. 'desk:offered:' .. id, math.max(1, tonumber(deadline) - now) + 60000)
    redis.call('SET', holderKey, id, 'PX', leaseMs)
    return redis.call('HGET', KEYS[2], id)
  end
end
return nil
