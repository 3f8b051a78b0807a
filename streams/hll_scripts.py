"""Lua scripts: keep each HyperLogLog's exact companion set; count unions exactly when possible."""

# KEYS: pairs of (hll, exact set), all in one hash slot. ARGV: limit, sentinel, then per group of
# keys that receive the same members: the group's key count m, its m expire-ats (unix s), member
# count n, n members; the group's m pairs are the next ones in KEYS. One call writes many keys:
# redis-py spends more per command than per argument, so a batch is a few calls, not one per key,
# and a member is sent once per group (a login's nine keys), not once per key.
# PFADD always; the set keeps ids only until it outgrows the limit, then shrinks to the sentinel
# (more than `limit` new members overflow it at once, without adding them first).
# A key's expire-at never changes (its day's end plus retention) and is set in the same atomic
# call that creates the key, so it is set again only when the call changed the key: PFADD
# returned 1, or the set was still exact. Most keys of a busy org are overflowed sets and
# HyperLogLogs whose registers a repeat visitor does not move: two Redis calls each, not four.
ADD_MEMBERS = """
local limit, sentinel = tonumber(ARGV[1]), ARGV[2]
local a, k = 3, 1
while a <= #ARGV do
  local m = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + m + 1])
  local first, last = a + m + 2, a + m + 1 + n
  for j = 1, m do
    local expire_at = ARGV[a + j]
    local changed = 0
    for s = first, last, 4000 do
      changed = changed + redis.call('PFADD', KEYS[k], unpack(ARGV, s, math.min(s + 3999, last)))
    end
    if changed > 0 then
      redis.call('EXPIREAT', KEYS[k], expire_at)
    end
    local set = KEYS[k + 1]
    if redis.call('SISMEMBER', set, sentinel) == 0 then
      if n <= limit then
        redis.call('SADD', set, unpack(ARGV, first, last))
      end
      if n > limit or redis.call('SCARD', set) > limit then
        redis.call('DEL', set)
        redis.call('SADD', set, sentinel)
      end
      redis.call('EXPIREAT', set, expire_at)
    end
    k = k + 2
  end
  a = last + 1
end
return 1
"""

# KEYS: sorted sets; or, with no KEYS, ARGV: sorted sets all served by the node the call goes to.
# Returns the non-empty ones as pairs: a key's position (from 1), then its members in order.
# ARGV is for a cluster, where one call may not declare keys of several slots (CROSSSLOT) but a
# script without a shebang may still read any key its node serves (Redis 6 and 7 both allow it; a
# key of another node fails the call with "non local key", and the store then falls back to one
# ZRANGE per key).
# Most users never had a plan change, so most keys asked for do not exist, and a call from Lua
# costs ~1 µs of Redis's time whatever it does: on one Redis, one EXISTS per 64 keys (one call,
# ~0.02 µs per key) skips the empty runs, and halving a run narrows down its few keys that exist;
# a run of at most 16 keys, or where at least a quarter exist, is read key by key. A cluster node
# refuses a multi-key command over several slots even in a script ("non local key"), so there
# every key is read.
ZRANGE_ALL = """
local names = KEYS
if #names == 0 then names = ARGV end
local out, n = {}, 0
local function read(first, last)
  for i = first, last do
    local members = redis.call('ZRANGE', names[i], 0, -1)
    if #members > 0 then
      out[n + 1], out[n + 2] = i, members
      n = n + 2
    end
  end
end
local function search(first, last)
  local found = redis.call('EXISTS', unpack(names, first, last))
  if found == 0 then
    return
  end
  local size = last - first + 1
  if size <= 16 or found * 4 >= size then
    read(first, last)
  else
    local middle = math.floor((first + last) / 2)
    search(first, middle)
    search(middle + 1, last)
  end
end
if #KEYS == 0 then
  read(1, #names)
else
  for first = 1, #names, 64 do
    search(first, math.min(first + 63, #names))
  end
end
return out
"""

# KEYS: per group, its n hll keys then their n exact sets. ARGV: sentinel, then each group's n.
# One call answers a whole report (all groups share the org's hash slot). Per group: exact when
# no set has overflowed and every HyperLogLog has its set (a day with neither is an empty day),
# otherwise the HLL union: a HyperLogLog without its set (a partly restored or evicted Redis)
# cannot be vouched for by the sets.
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
    if redis.call('EXISTS', KEYS[i]) == 0 and redis.call('EXISTS', KEYS[i - n]) == 1 then
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
