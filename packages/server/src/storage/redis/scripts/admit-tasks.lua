--[[
  Admits tasks, each if its account has a free thread (Storage.admitTask): the admissions a node
  received in one turn of its event loop, in order, so that Redis runs one script and answers one
  reply for them all.

  KEYS[1] deadlines
  Per task i (from 0), KEYS[2 + 4i] to KEYS[5 + 4i]: task:<id>, busy:<account>, queue:<type>, and
  idem:<account>:<key> (any unused name when the task has none)
  ARGV[1] prefix   ARGV[2] how many tasks
  Then per task, 11 values and its optional fields: now, threads, id, type, created, deadline,
  TTL of the keys (ms), '1' with an idempotency key, account, spec, how many optional values
  follow (the task hash's fields and values: proxy, pingback, soft, idem)

  Returns one reply per task: {'admitted'} | {'replayed', id} | {'no-free-thread'} | {'duplicate-id'}
  Publishes each admitted type on `wake` once.
]]
local prefix = ARGV[1]
local replies, woken = {}, {}

local function admit(task, busy, queue, idem, now, threads, id, type, created, deadline, ttl, idempotent, account, spec, from, to)
  if idempotent == '1' then
    local previous = redis.call('GET', idem)
    if previous then
      local expires = redis.call('HGET', prefix .. 'task:' .. previous, 'expires')
      local exists = redis.call('EXISTS', prefix .. 'task:' .. previous) == 1
      -- A task whose result expired frees its key, even before the sweep deletes it.
      if exists and (not expires or tonumber(expires) > now) then return { 'replayed', previous } end
    end
  end
  if redis.call('EXISTS', task) == 1 then return { 'duplicate-id' } end

  -- Busy threads: the account's unfinished tasks whose deadline is still ahead. Those past it
  -- count until they are dropped, which is needed only when the count reaches the plan's threads.
  if redis.call('ZCARD', busy) >= threads then
    redis.call('ZREMRANGEBYSCORE', busy, '-inf', now)
    if redis.call('ZCARD', busy) >= threads then return { 'no-free-thread' } end
  end

  redis.call('HSET', task, 'account', account, 'type', type, 'state', 'queued', 'spec', spec,
    'available', created, 'deadline', deadline, 'created', created, 'attempts', 0)
  if to >= from then redis.call('HSET', task, unpack(ARGV, from, to)) end
  redis.call('PEXPIRE', task, ttl)
  redis.call('ZADD', busy, deadline, id)
  -- The busy set lives as long as its longest-lived task (token tasks outlive image tasks).
  if redis.call('PTTL', busy) < tonumber(ttl) then redis.call('PEXPIRE', busy, ttl) end
  redis.call('ZADD', queue, created, id)
  redis.call('ZADD', KEYS[1], deadline, id)
  if idempotent == '1' then redis.call('SET', idem, id, 'PX', ttl) end
  woken[type] = true
  return { 'admitted' }
end

local at = 3
for i = 0, tonumber(ARGV[2]) - 1 do
  local k = 2 + 4 * i
  local optional = tonumber(ARGV[at + 10])
  replies[i + 1] = admit(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), ARGV[at + 2],
    ARGV[at + 3], ARGV[at + 4], ARGV[at + 5], ARGV[at + 6], ARGV[at + 7], ARGV[at + 8], ARGV[at + 9], at + 11, at + 10 + optional)
  at = at + 11 + optional
end
for type in pairs(woken) do redis.call('PUBLISH', prefix .. 'wake', type) end
return replies
