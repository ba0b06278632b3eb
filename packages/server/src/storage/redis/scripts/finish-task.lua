--[[
  Ends a leased task, solved or failed (Storage.completeTask, and failTask with a code): stores
  the outcome, frees the account's thread, debits the price and counts it for the solver.

  KEYS[1] task:<id>   KEYS[2] active   KEYS[3] deadlines   KEYS[4] expiring   KEYS[5] solvers
  ARGV[1] prefix   ARGV[2] id   ARGV[3] lease id   ARGV[4] 'solved' or 'failed'
  ARGV[5] solution (solved) or error code (failed)   ARGV[6] price in micros (0 when failed)
  ARGV[7] expires at   ARGV[8] solver ('' for none)   ARGV[9] TTL of the result keys, ms

  Publishes the id on <prefix>finished, which wakes long-polls waiting for it on every node.
  Returns 1, or 0 when the lease was lost.
]]
local prefix, id = ARGV[1], ARGV[2]
local t = redis.call('HMGET', KEYS[1], 'state', 'lease', 'account', 'idem')
if t[1] ~= 'active' or t[2] ~= ARGV[3] then return 0 end

local solved = ARGV[4] == 'solved'
redis.call('HDEL', KEYS[1], 'lease', 'leaseUntil')
redis.call('HSET', KEYS[1], 'state', ARGV[4], solved and 'solution' or 'error', ARGV[5], 'expires', ARGV[7])
if solved then redis.call('HSET', KEYS[1], 'price', ARGV[6]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'solver', ARGV[8]) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
if t[4] then redis.call('PEXPIRE', t[4], ARGV[9]) end

redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('ZADD', KEYS[4], ARGV[7], id)
redis.call('ZREM', prefix .. 'busy:' .. t[3], id)
if solved and tonumber(ARGV[6]) ~= 0 then redis.call('HINCRBY', prefix .. 'account:' .. t[3], 'balance', -tonumber(ARGV[6])) end
if ARGV[8] ~= '' then
  redis.call('HINCRBY', prefix .. 'stats:' .. ARGV[8], solved and 'solved' or 'failed', 1)
  if solved and tonumber(ARGV[6]) ~= 0 then redis.call('HINCRBY', prefix .. 'stats:' .. ARGV[8], 'chargedMicros', tonumber(ARGV[6])) end
  redis.call('SADD', KEYS[5], ARGV[8])
end
redis.call('PUBLISH', prefix .. 'finished', id)
return 1
