/// The account limiter's decisions, each one Lua script run atomically by Redis, with Redis' own clock
/// (`TIME`), so that workers on several machines share one view of time and of the limits.
///
/// Rate: GCRA (the generic cell rate algorithm). The account keeps one number, the theoretical arrival time
/// (TAT) of the next request; a request is allowed when `now >= TAT - (burst - 1) * T`, where
/// `T = 60 / per_minute`, and moves TAT to `max(TAT, now) + T`. So requests are spaced `T` apart on
/// average, with at most `burst` at once after a quiet spell, whatever the number of workers.
/// Concurrency: a sorted set of leases scored by their expiry, so a dead worker's permit comes back.
/// Keys, under `prerender:limit:<account>`: `:tat`, `:inflight`, `:released` (wake-up tokens), `:pause`
/// (429 Retry-After for the whole account), `:circuit` (breaker state), `:probe`, `:halt` (402).
enum LimiterScripts {
    /// ARGV: prefix, per_minute (0: none), burst, concurrency (0: none), lease id, lease seconds, breaker threshold (0: off).
    /// Returns {"ok", probe (0/1)}, {"wait", seconds, why} or {"halt", reason}.
    static let acquire = QueueScripts.Script("""
    local p = ARGV[1]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local halted = redis.call('GET', p .. ':halt')
    if halted then return {'halt', halted} end
    local pause = tonumber(redis.call('GET', p .. ':pause') or '0')
    if pause > now then return {'wait', tostring(pause - now), 'the service asked to slow down (Retry-After)'} end
    local lease, leaseSeconds = ARGV[5], tonumber(ARGV[6])
    local probe = 0
    if tonumber(ARGV[7]) > 0 then
      local c = redis.call('HMGET', p .. ':circuit', 'state', 'until')
      if c[1] == 'open' then
        local reopen = tonumber(c[2] or '0')
        if now < reopen then return {'wait', tostring(reopen - now), 'circuit open'} end
        if not redis.call('SET', p .. ':probe', lease, 'NX', 'PX', math.ceil(leaseSeconds * 1000)) then
          return {'wait', '0.5', 'circuit half-open: one probe request is deciding'}
        end
        probe = 1
      end
    end
    local concurrency = tonumber(ARGV[4])
    local inflight = p .. ':inflight'
    if concurrency > 0 then
      redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
      if redis.call('ZCARD', inflight) >= concurrency then
        if probe == 1 then redis.call('DEL', p .. ':probe') end
        local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
        return {'wait', tostring(math.max(0.001, tonumber(first[2]) - now)), 'concurrency'}
      end
    end
    local perMinute = tonumber(ARGV[2])
    if perMinute > 0 then
      local interval = 60 / perMinute
      local tat = tonumber(redis.call('GET', p .. ':tat') or '0')
      if tat < now then tat = now end
      local allowAt = tat - (tonumber(ARGV[3]) - 1) * interval
      if now < allowAt then
        if probe == 1 then redis.call('DEL', p .. ':probe') end
        return {'wait', tostring(allowAt - now), 'rate'}
      end
      local nextTat = tat + interval
      redis.call('SET', p .. ':tat', tostring(nextTat), 'PX', math.ceil((nextTat - now) * 1000) + 1000)
    end
    if concurrency > 0 then
      redis.call('ZADD', inflight, now + leaseSeconds, lease)
      redis.call('PEXPIRE', inflight, math.ceil(leaseSeconds * 1000) + 1000)
    end
    return {'ok', tostring(probe)}
    """)

    /// ARGV: prefix, lease id, outcome (success | failure | throttled | halt | neutral), retry-after seconds,
    /// breaker threshold, breaker cooldown seconds, probe (0/1), halt reason, concurrency.
    static let release = QueueScripts.Script("""
    local p, lease, outcome = ARGV[1], ARGV[2], ARGV[3]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local concurrency = tonumber(ARGV[9])
    if concurrency > 0 and redis.call('ZREM', p .. ':inflight', lease) == 1 then
      -- Wake one worker waiting for a permit; keep no more tokens than permits.
      redis.call('RPUSH', p .. ':released', '1')
      redis.call('LTRIM', p .. ':released', -concurrency, -1)
      redis.call('EXPIRE', p .. ':released', 60)
    end
    local threshold = tonumber(ARGV[5])
    local probe = ARGV[7] == '1'
    if probe then redis.call('DEL', p .. ':probe') end
    if outcome == 'throttled' then
      local resume = now + tonumber(ARGV[4])
      local current = tonumber(redis.call('GET', p .. ':pause') or '0')
      if resume > current then
        redis.call('SET', p .. ':pause', tostring(resume), 'PX', math.ceil(tonumber(ARGV[4]) * 1000) + 1)
      end
    elseif outcome == 'halt' then
      redis.call('SET', p .. ':halt', ARGV[8], 'EX', 3600)
    end
    if threshold > 0 then
      local circuit = p .. ':circuit'
      if outcome == 'success' then
        redis.call('HSET', circuit, 'state', 'closed', 'failures', 0)
      elseif outcome == 'failure' then
        local failures = redis.call('HINCRBY', circuit, 'failures', 1)
        if probe or failures >= threshold then
          redis.call('HSET', circuit, 'state', 'open', 'until', tostring(now + tonumber(ARGV[6])), 'failures', 0)
          redis.call('HINCRBY', circuit, 'opened', 1)
        end
      end
      redis.call('EXPIRE', circuit, 86400)
    end
    return 1
    """)
}
