--[[
  One pass of housekeeping (Storage.sweep), at most ARGV[4] items of each kind, so that one call
  never holds Redis for long; the sweeper runs every second, from every node, harmlessly at once.
  - unfinished tasks past their deadline fail with ARGV[5] and free their thread (their ids are
    published on <prefix>finished, for long-polls);
  - active tasks whose lease ran out go back to their queue (the attempt stays counted);
  - finished tasks whose result expired are deleted, with their idempotency key;
  - marks that ended are deleted. (Failed-authentication records and bans expire by TTL.)

  KEYS[1] deadlines   KEYS[2] active   KEYS[3] expiring   KEYS[4] marks
  ARGV[1] prefix   ARGV[2] now   ARGV[3] result TTL, ms   ARGV[4] limit   ARGV[5] the overdue code
  ARGV[6] grace before Redis deletes a key that stopped mattering, ms

  Returns { overdue, expired, stalled, marks deleted }
]]
local prefix, now, ttl, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local overdue, expired, stalled = 0, 0, 0

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)) do
  local key = prefix .. 'task:' .. id
  local t = redis.call('HMGET', key, 'state', 'type', 'account', 'deadline', 'idem')
  if t[1] == 'queued' or t[1] == 'active' then
    local expires = tonumber(t[4]) + ttl
    redis.call('HDEL', key, 'lease', 'leaseUntil')
    redis.call('HSET', key, 'state', 'failed', 'error', ARGV[5], 'expires', expires)
    local keep = math.max(1, expires - now + tonumber(ARGV[6]))
    redis.call('PEXPIRE', key, keep)
    if t[5] then redis.call('PEXPIRE', t[5], keep) end
    redis.call('ZREM', prefix .. 'queue:' .. t[2], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', prefix .. 'busy:' .. t[3], id)
    redis.call('ZADD', KEYS[3], expires, id)
    redis.call('PUBLISH', prefix .. 'finished', id)
    overdue = overdue + 1
  end
  redis.call('ZREM', KEYS[1], id)
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)) do
  local key = prefix .. 'task:' .. id
  local t = redis.call('HMGET', key, 'state', 'type', 'available', 'deadline')
  -- Past its deadline the task is the first loop's (overdue), not requeued.
  if t[1] == 'active' and tonumber(t[4]) > now then
    redis.call('HDEL', key, 'lease', 'leaseUntil')
    redis.call('HSET', key, 'state', 'queued')
    redis.call('ZADD', prefix .. 'queue:' .. t[2], t[3], id)
    redis.call('PUBLISH', prefix .. 'wake', t[2])
    stalled = stalled + 1
  end
  if t[1] ~= 'active' or tonumber(t[4]) > now then redis.call('ZREM', KEYS[2], id) end
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)) do
  local key = prefix .. 'task:' .. id
  local idem = redis.call('HGET', key, 'idem')
  if idem and redis.call('GET', idem) == id then redis.call('DEL', idem) end
  if redis.call('DEL', key) == 1 then expired = expired + 1 end
  redis.call('ZREM', KEYS[3], id)
end

local unmarked = 0
for _, mark in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('DEL', prefix .. 'mark:' .. mark)
  redis.call('ZREM', KEYS[4], mark)
  unmarked = unmarked + 1
end

return { overdue, expired, stalled, unmarked }
