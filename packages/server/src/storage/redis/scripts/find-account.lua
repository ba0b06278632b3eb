--[[
  Reads the account of a key hash in one round trip (Storage.findAccountByKeyHash): every
  request authenticates, so this is on the hot path.

  KEYS[1] account-key:<key hash>
  ARGV[1] prefix

  Returns nil, or {id, hint, threads, balance, proxies, disabled, created, key hash}
]]
local id = redis.call('GET', KEYS[1])
if not id then return nil end
local a = redis.call('HMGET', ARGV[1] .. 'account:' .. id, 'hint', 'threads', 'balance', 'proxies', 'disabled', 'created', 'keyhash')
if not a[1] then return nil end
return { id, a[1], a[2], a[3], a[4], a[5], a[6], a[7] or '' }
