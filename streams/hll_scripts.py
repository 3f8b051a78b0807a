"""Lua scripts: keep each HyperLogLog's exact companion set; count unions exactly when possible."""

# KEYS: hll, exact set. ARGV: limit, sentinel, expire-at (unix s), members...
# PFADD always; the set keeps ids only until it outgrows the limit, then shrinks to the sentinel.
ADD_MEMBERS = """
redis.call('PFADD', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIREAT', KEYS[1], ARGV[3])
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 4))
  if redis.call('SCARD', KEYS[2]) > tonumber(ARGV[1]) then
    redis.call('DEL', KEYS[2])
    redis.call('SADD', KEYS[2], ARGV[2])
  end
end
redis.call('EXPIREAT', KEYS[2], ARGV[3])
return 1
"""

# KEYS: per group, its n hll keys then their n exact sets. ARGV: sentinel, then each group's n.
# One call answers a whole report (all groups share the org's hash slot). Per group: exact when
# no set has overflowed (a missing set is an empty day), otherwise the HLL union.
COUNT_UNIONS = """
local counts = {}
local base = 0
for g = 2, #ARGV do
  local n = tonumber(ARGV[g])
  local exact = n > 0
  for i = base + n + 1, base + 2 * n do
    if redis.call('SISMEMBER', KEYS[i], ARGV[1]) == 1 then
      exact = false
      break
    end
  end
  if n == 0 then
    counts[#counts + 1] = 0
  elseif exact then
    counts[#counts + 1] = #redis.call('SUNION', unpack(KEYS, base + n + 1, base + 2 * n))
  else
    counts[#counts + 1] = redis.call('PFCOUNT', unpack(KEYS, base + 1, base + n))
  end
  base = base + 2 * n
end
return counts
"""
