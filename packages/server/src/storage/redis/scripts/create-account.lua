--[[
  Creates an account (Storage.createAccount). Key hashes are unique.

  KEYS[1] account-key:<key hash>   KEYS[2] account:seq   KEYS[3] accounts
  ARGV[1] prefix   ARGV[2] key hint   ARGV[3] threads   ARGV[4] balance   ARGV[5] proxies (1/0)
  ARGV[6] created at   ARGV[7] key hash

  Returns the new account id, or an error when the key hash exists.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('an account with this key exists') end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[1] .. 'account:' .. id, 'hint', ARGV[2], 'threads', ARGV[3], 'balance', ARGV[4], 'proxies', ARGV[5], 'disabled', 0, 'created', ARGV[6], 'keyhash', ARGV[7])
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[3], id, id)
return id
