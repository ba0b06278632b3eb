--[[
  Leases the oldest due, not overdue, queued task of the given types (Storage.leaseTask).

  KEYS[1] active              KEYS[2..] queue:<type>, one per type
  ARGV[1] prefix   ARGV[2] now   ARGV[3] lease id   ARGV[4] lease length, ms

  Returns nil, or {id, account, spec, proxy, pingback, attempts, deadline}
]]
local prefix, now = ARGV[1], tonumber(ARGV[2])
local bestQueue, bestId, bestDue

for i = 2, #KEYS do
  -- Overdue tasks at the head of a queue are passed over here; the sweep fails and removes them.
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 32)
  for j = 1, #due, 2 do
    local deadline = tonumber(redis.call('HGET', prefix .. 'task:' .. due[j], 'deadline') or '0')
    if deadline > now then
      local at = tonumber(due[j + 1])
      if not bestDue or at < bestDue then bestQueue, bestId, bestDue = KEYS[i], due[j], at end
      break
    end
  end
end
if not bestId then return nil end

local key = prefix .. 'task:' .. bestId
local leaseUntil = now + tonumber(ARGV[4])
redis.call('ZREM', bestQueue, bestId)
redis.call('HSET', key, 'state', 'active', 'lease', ARGV[3], 'leaseUntil', leaseUntil)
redis.call('HINCRBY', key, 'attempts', 1)
redis.call('ZADD', KEYS[1], leaseUntil, bestId)
local t = redis.call('HMGET', key, 'account', 'spec', 'proxy', 'pingback', 'attempts', 'deadline')
return { bestId, t[1], t[2], t[3], t[4], t[5], t[6] }
