"""The Lua steps of the Redis store: each runs atomically in Redis.

``SAVE_SAGA``: KEYS the claim, the saga record, ``sagas:due``, ``actions:due``, ``actions:index``; ARGV the claim's
token ('' for an unfenced write) and new lease, the saga's id, JSON, whether it is RUNNING ('1'), lease and TTL,
the action key prefix, then (id, due, JSON) per new action. Returns 1 once written; when the claim is not held
with that token, writes nothing and returns the claim's record as it is ('' if gone).
"""

TAKE_OVER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""

FINISH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record['token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return 1
end
local done = {fp = record['fp'], state = 'done', result = ARGV[2]}
redis.call('SET', KEYS[1], cjson.encode(done), 'EX', ARGV[3])
return 1
"""

LEASE_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
"""

PUT = """
for i = 2, #ARGV, 3 do
  if redis.call('SET', ARGV[1] .. ARGV[i], ARGV[i + 2], 'NX') then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 1]), ARGV[i])
    redis.call('ZADD', KEYS[2], cjson.decode(ARGV[i + 2])['created_at'], ARGV[i])
  end
end
return 1
"""

SAVE = """
local saved = {}
for i = 3, #ARGV, 5 do
  local key = ARGV[1] .. ARGV[i]
  local unchanged = true
  if ARGV[i + 1] ~= '' then
    local raw = redis.call('GET', key)
    unchanged = raw and cjson.decode(raw)['updated_at'] == tonumber(ARGV[i + 1])
  end
  if unchanged then
    if ARGV[i + 3] == 'DONE' then redis.call('SET', key, ARGV[i + 2], 'EX', ARGV[2])
    else redis.call('SET', key, ARGV[i + 2]) end
    if ARGV[i + 3] == 'PENDING' then redis.call('ZADD', KEYS[1], ARGV[i + 4], ARGV[i])
    else redis.call('ZREM', KEYS[1], ARGV[i]) end
    saved[#saved + 1] = ARGV[i]
  end
end
return saved
"""

APPEND = """
for i = 2, #ARGV, 4 do
  if redis.call('SET', ARGV[1] .. 'key:' .. ARGV[i], '1', 'NX') then
    local seq = redis.call('INCR', KEYS[1])
    redis.call('ZADD', ARGV[i + 1], seq, ARGV[i + 3])
    if ARGV[i + 2] ~= '' then redis.call('ZADD', ARGV[i + 2], seq, ARGV[i + 3]) end
  end
end
return 1
"""

SAVE_SAGA = """
if ARGV[1] ~= '' then
  local raw = redis.call('GET', KEYS[1])
  if not raw then return '' end
  local record = cjson.decode(raw)
  if record['token'] ~= ARGV[1] then return raw end
  record['lease'] = tonumber(ARGV[2])
  redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
end
if ARGV[5] == '1' then
  redis.call('SET', KEYS[2], ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[3])
else
  redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[7])
  redis.call('ZREM', KEYS[3], ARGV[3])
end
for i = 9, #ARGV, 3 do
  if redis.call('SET', ARGV[8] .. ARGV[i], ARGV[i + 2], 'NX') then
    redis.call('ZADD', KEYS[4], tonumber(ARGV[i + 1]), ARGV[i])
    redis.call('ZADD', KEYS[5], cjson.decode(ARGV[i + 2])['created_at'], ARGV[i])
  end
end
return 1
"""
