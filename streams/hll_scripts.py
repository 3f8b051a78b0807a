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

# KEYS: n hll keys, then their n exact sets. ARGV: sentinel.
# Exact when no set has overflowed (a missing set is an empty day); otherwise the HLL union.
COUNT_UNION = """
local n = #KEYS / 2
for i = n + 1, 2 * n do
  if redis.call('SISMEMBER', KEYS[i], ARGV[1]) == 1 then
    return redis.call('PFCOUNT', unpack(KEYS, 1, n))
  end
end
return #redis.call('SUNION', unpack(KEYS, n + 1, 2 * n))
"""
