--[[
  Admits a task if the account has a free thread (Storage.admitTask).

  KEYS[1] task:<id>           KEYS[2] busy:<account>     KEYS[3] queue:<type>
  KEYS[4] deadlines           KEYS[5] idem:<account>:<key> (any unused name when ARGV[9] is '0')
  ARGV[1] prefix   ARGV[2] now   ARGV[3] threads   ARGV[4] id   ARGV[5] type
  ARGV[6] created  ARGV[7] deadline   ARGV[8] TTL of the keys, ms   ARGV[9] '1' with an idempotency key
  ARGV[10] account ARGV[11] spec     ARGV[12..] the task hash's optional fields and values
  (fewer arguments than every field named by the caller: each costs both sides of the call)

  Returns {'admitted'} | {'replayed', id} | {'no-free-thread'} | {'duplicate-id'}
]]
local prefix, now, id = ARGV[1], tonumber(ARGV[2]), ARGV[4]

if ARGV[9] == '1' then
  local previous = redis.call('GET', KEYS[5])
  if previous then
    local expires = redis.call('HGET', prefix .. 'task:' .. previous, 'expires')
    local exists = redis.call('EXISTS', prefix .. 'task:' .. previous) == 1
    -- A task whose result expired frees its key, even before the sweep deletes it.
    if exists and (not expires or tonumber(expires) > now) then return { 'replayed', previous } end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return { 'duplicate-id' } end

-- Busy threads: the account's unfinished tasks whose deadline is still ahead.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return { 'no-free-thread' } end

redis.call('HSET', KEYS[1], 'account', ARGV[10], 'type', ARGV[5], 'state', 'queued', 'spec', ARGV[11],
  'available', ARGV[6], 'deadline', ARGV[7], 'created', ARGV[6], 'attempts', 0)
if #ARGV >= 12 then redis.call('HSET', KEYS[1], unpack(ARGV, 12)) end
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[7], id)
-- The busy set lives as long as its longest-lived task (token tasks outlive image tasks).
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[8]) then redis.call('PEXPIRE', KEYS[2], ARGV[8]) end
redis.call('ZADD', KEYS[3], ARGV[6], id)
redis.call('ZADD', KEYS[4], ARGV[7], id)
if ARGV[9] == '1' then redis.call('SET', KEYS[5], id, 'PX', ARGV[8]) end
redis.call('PUBLISH', prefix .. 'wake', ARGV[5])
return { 'admitted' }
