import RedisClient

/// The queue's state changes, each one Lua script so that Redis applies it atomically and a job
/// step costs one round trip. Key names follow RQ's layout (`rq:job:<id>`, `rq:queue:<name>`,
/// `rq:wip:<name>`, `rq:finished:<name>`, `rq:failed:<name>`, `rq:results:<id>`, `rq:worker:<name>`)
/// so `rq info` and rq-dashboard see the jobs and workers; `prerender:*` keys are the pipeline's own.
enum QueueScripts {
    /// Tells the builds waiting for job `id` that it has ended: the build that enqueued it (the job's
    /// `prerender_notify`, told once) and builds that joined it later (the `prerender:waiters:<id>` set).
    private static let notifyWaiters = """
    local waiters = 'prerender:waiters:' .. id
    local owner = redis.call('HGET', 'rq:job:' .. id, 'prerender_notify')
    if owner then
      redis.call('RPUSH', owner, id)
      redis.call('EXPIRE', owner, 86400)
      redis.call('HDEL', 'rq:job:' .. id, 'prerender_notify')
    end
    for _, list in ipairs(redis.call('SMEMBERS', waiters)) do
      if list ~= owner then
        redis.call('RPUSH', list, id)
        redis.call('EXPIRE', list, 86400)
      end
    end
    redis.call('DEL', waiters)
    """

    /// ARGV: queue, dedup ttl, job ttl, result ttl, timeout, now (iso), notify list, then per job four:
    /// id, audio key, data, description.
    /// Enqueues a batch in one call. Per job: `queued` (a new job), `joined` (the same audio is queued or running
    /// for another build: wait for that job), `done` (it finished moments ago: its audio is ready), with the id
    /// of the job that delivers it; returned flat: outcome, id, outcome, id...
    /// A new job costs three calls: the dedup entry (SET NX, which is also the lookup), its hash (only the fields
    /// RQ reads; it treats missing ones as empty) and its expiry. The batch's ids go onto the queue in one RPUSH.
    static let enqueue = Script("""
    local queue, dedupTTL, jobTTL, notify, now = ARGV[1], ARGV[2], ARGV[3], ARGV[7], ARGV[6]
    local queueKey = 'rq:queue:' .. queue
    local dedupPrefix = 'prerender:dedup:' .. queue .. ':'
    local out, fresh = {}, {}
    for i = 8, #ARGV, 4 do
      local id, key = ARGV[i], ARGV[i + 1]
      local dedup = dedupPrefix .. key
      -- Most jobs are new: the dedup entry is claimed by the call that finds it free.
      local existing = nil
      if not redis.call('SET', dedup, id, 'NX', 'EX', dedupTTL) then existing = redis.call('GET', dedup) end
      local outcome = nil
      if existing then
        local status = redis.call('HGET', 'rq:job:' .. existing, 'status')
        if status == 'queued' or status == 'started' or status == 'scheduled' or status == 'deferred' then
          local waiters = 'prerender:waiters:' .. existing
          redis.call('SADD', waiters, notify)
          redis.call('EXPIRE', waiters, jobTTL)
          outcome = 'joined'
        elseif status == 'finished' and redis.call('EXISTS', 'prerender:audio:' .. key) == 1 then
          redis.call('INCR', 'prerender:readers:' .. key)
          redis.call('EXPIRE', 'prerender:readers:' .. key, redis.call('TTL', 'prerender:audio:' .. key))
          redis.call('RPUSH', notify, existing)
          redis.call('EXPIRE', notify, 86400)
          outcome = 'done'
        end
      end
      if outcome then
        out[#out + 1] = outcome
        out[#out + 1] = existing
      else
        local job = 'rq:job:' .. id
        redis.call('HSET', job, 'status', 'queued', 'created_at', now, 'enqueued_at', now, 'data', ARGV[i + 2],
          'origin', queue, 'description', ARGV[i + 3], 'timeout', ARGV[5], 'result_ttl', ARGV[4], 'ttl', jobTTL,
          'prerender_key', key, 'prerender_notify', notify)
        redis.call('EXPIRE', job, jobTTL)
        if existing then redis.call('SET', dedup, id, 'EX', dedupTTL) end
        fresh[#fresh + 1] = id
        out[#out + 1] = 'queued'
        out[#out + 1] = id
      end
    end
    if #fresh > 0 then
      redis.call('SADD', 'rq:queues', queueKey)
      redis.call('RPUSH', queueKey, unpack(fresh))
    end
    return out
    """)

    /// ARGV: job id, audio key. What a build needs to know about a job it waits for: status, reason, result,
    /// attempts, started and ended. When the job has finished, this build's GET of the audio comes just before
    /// in the same MULTI: the last of the builds waiting for it deletes it, so Redis holds only audio not yet
    /// collected (not every file of a build for `audio_ttl`).
    static let outcome = Script("""
    local fields = redis.call('HMGET', 'rq:job:' .. ARGV[1], 'status', 'prerender_reason', 'prerender_result',
      'prerender_attempts', 'started_at', 'ended_at')
    if fields[1] == 'finished' then
      local audio, readers = 'prerender:audio:' .. ARGV[2], 'prerender:readers:' .. ARGV[2]
      if redis.call('EXISTS', audio) == 1 and redis.call('DECR', readers) <= 0 then redis.call('DEL', audio, readers) end
    end
    return fields
    """)

    /// ARGV: queue, id, worker name, now (iso), now (unix seconds), execution id, now (unix, float), heartbeat timeout.
    /// Moves a job a worker has just taken (BLMOVE to the intermediate list) to started, as RQ's worker
    /// does: wip entry `<job>:<execution>` scored by its heartbeat deadline, execution hash and sets,
    /// worker busy. Returns the job's data, attempts, id and audio key, or nil when the job expired or is no longer queued.
    static let start = Script(startSource(popping: false))

    /// ARGV: start's (the id is ignored). Takes the next job and starts it in one call, when there is one:
    /// a busy worker's round trip a job fewer than BLMOVE + start (no intermediate list is needed: nothing
    /// can happen between the two). Returns start's answer, 'skip' for a job that expired, or nil when the
    /// queue is empty (then the worker waits with BLMOVE).
    static let takeAndStart = Script(startSource(popping: true))

    private static func startSource(popping: Bool) -> String {
        let take = popping ? """
            local id = redis.call('LPOP', 'rq:queue:' .. queue)
            if not id then return false end
            """ : """
            local id = ARGV[2]
            redis.call('LREM', 'rq:queue:' .. queue .. ':intermediate', 1, id)
            """
        return """
        local queue, worker, exec = ARGV[1], ARGV[3], ARGV[6]
        local now, window = tonumber(ARGV[5]), tonumber(ARGV[8])
        \(take)
        local job = 'rq:job:' .. id
        local fields = redis.call('HMGET', job, 'data', 'status', 'prerender_attempts', 'prerender_key')
        if not fields[1] or fields[2] ~= 'queued' then return \(popping ? "'skip'" : "false") end
        -- Another producer's job (the tutor app's Python jobs) is left for RQ's own workers, at the back of the queue.
        if string.sub(fields[1], 1, 1) == '[' and not string.find(fields[1], '"prerender.synthesize"', 1, true) then
          redis.call('RPUSH', 'rq:queue:' .. queue, id)
          return 'foreign:' .. id
        end
        redis.call('HSET', job, 'status', 'started', 'started_at', ARGV[4], 'worker_name', worker, 'last_heartbeat', ARGV[4])
        redis.call('PERSIST', job)
        redis.call('ZADD', 'rq:wip:' .. queue, now + window, id .. ':' .. exec)
        local execution = 'rq:execution:' .. id .. ':' .. exec
        redis.call('HSET', execution, 'id', exec, 'job_id', id, 'created_at', ARGV[7], 'last_heartbeat', ARGV[7], 'worker_name', worker)
        redis.call('EXPIRE', execution, window)
        redis.call('ZADD', 'rq:executions:' .. id, now + (window + 60), exec)
        redis.call('EXPIRE', 'rq:executions:' .. id, (window + 60))
        local w = 'rq:worker:' .. worker
        if redis.call('EXISTS', w) == 1 then
          redis.call('SADD', w .. ':executions', id .. ':' .. exec)
          redis.call('EXPIRE', w .. ':executions', (window + 60))
          redis.call('HSET', w, 'state', 'busy', 'last_heartbeat', ARGV[4])
          redis.call('EXPIRE', w, window)
        end
        return {fields[1], fields[3] or '[]', id, fields[4] or ''}
        """
    }

    /// Ends an execution's bookkeeping, counts it in the worker's hash and marks the worker idle (shared by
    /// finish and fail). Needs locals queue, id, exec, worker and ARGV[5] = now (iso).
    private static let endExecution = endExecutionSource(thenIdle: true)

    /// `thenIdle: false` leaves the worker's state to what comes next in the same script: finishHereAndTake's
    /// worker takes its next job at once and stays busy (two calls a job fewer than idle, then busy again).
    private static func endExecutionSource(thenIdle: Bool) -> String {
        """
        redis.call('DEL', 'rq:execution:' .. id .. ':' .. exec)
        redis.call('ZREM', 'rq:executions:' .. id, exec)
        local w = 'rq:worker:' .. worker
        redis.call('SREM', w .. ':executions', id .. ':' .. exec)
        if redis.call('EXISTS', w) == 1 then
          redis.call('HINCRBY', w, counter, 1)
          redis.call('HINCRBYFLOAT', w, 'total_working_time', seconds)
          \(thenIdle ? markIdle : "")
        end
        """
    }

    /// Needs local w (the worker's key) and ARGV[5] = now (iso).
    private static let markIdle = """
        redis.call('HSET', w, 'state', 'idle', 'last_heartbeat', ARGV[5])
        redis.call('EXPIRE', w, \(idleWorkerTTL))
        """

    /// ARGV: queue, id, execution id, worker, now (iso), now (unix, float), result ttl, return value (base64),
    /// audio key, audio ttl, seconds worked, result json, started (unix, float).
    /// Mirrors RQ's success path and tells the builds waiting. The audio itself is SET just before, in the same
    /// round trip but outside Lua: Redis' Lua hashes every byte of every string it is given, and an 80 KB file
    /// through a script cost 150 µs of Redis' time against 5 µs for a plain SET.
    static let finish = Script(finishSource(here: false))

    /// ARGV: finish's, then the notification list of the build whose worker finished the job.
    /// Finishes the job the same way, with its audio kept in that build's process (`LocalResults`), but only
    /// when that build is the only one waiting for it (it enqueued the job and no other build joined); returns
    /// 0 otherwise, and the worker hands the audio over through Redis (`finish`) instead.
    static let finishHere = Script(finishSource(here: true))

    /// ARGV: finishHere's fourteen, then takeAndStart's eight. A busy worker of a build finishes its job and
    /// takes the next in one round trip (one script, so that a NOSCRIPT retry cannot finish a job twice).
    /// Returns {0} when finishHere changed nothing (the audio must go through Redis; nothing was taken), else
    /// {1, takeAndStart's answer}.
    static let finishHereAndTake = Script("""
    local function finish(ARGV)
    \(finishSource(here: true, thenIdle: false))
    end
    local function take(ARGV)
    \(startSource(popping: true))
    end
    if finish(ARGV) == 0 then return {0} end
    local taken = take({unpack(ARGV, 15)})
    if type(taken) ~= 'table' then
      -- Nothing to start (an empty queue, an expired or a foreign job): the worker is idle after all.
      local w = 'rq:worker:' .. ARGV[4]
      if redis.call('EXISTS', w) == 1 then
        \(markIdle)
      end
    end
    return {1, taken}
    """)

    private static func finishSource(here: Bool, thenIdle: Bool = true) -> String {
        let readers = here ? """
            if redis.call('HGET', job, 'prerender_notify') ~= ARGV[14] or redis.call('EXISTS', 'prerender:waiters:' .. id) == 1 then
              return 0
            end
            """ : """
            -- The builds that will collect the audio; the last one to take it deletes it (see outcome).
            local readers = redis.call('SCARD', 'prerender:waiters:' .. id)
            if redis.call('HEXISTS', job, 'prerender_notify') == 1 then readers = readers + 1 end
            if readers > 0 then redis.call('SET', 'prerender:readers:' .. ARGV[9], readers, 'EX', ARGV[10]) end
            """
        return """
        local queue, id, exec, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local counter, seconds = 'successful_job_count', ARGV[11]
        local job = 'rq:job:' .. id
        \(readers)
        if redis.call('ZREM', 'rq:wip:' .. queue, id .. ':' .. exec) == 0 then
          -- `rq info` took the job for abandoned (missed heartbeats) and failed it; the audio is good, so it is finished after all.
          redis.call('ZREM', 'rq:failed:' .. queue, id)
        end
        redis.call('HSET', job, 'status', 'finished', 'ended_at', ARGV[5], 'last_heartbeat', ARGV[5], 'prerender_result', ARGV[12])
        redis.call('EXPIRE', job, ARGV[7])
        redis.call('ZADD', 'rq:finished:' .. queue, math.floor(tonumber(ARGV[6]) + tonumber(ARGV[7])), id)
        local results = 'rq:results:' .. id
        redis.call('XADD', results, 'MAXLEN', '~', '10', '*', 'type', '1', 'worker_name', worker,
          'return_value', ARGV[8], 'execution_id', exec, 'execution_started_at', ARGV[13], 'execution_ended_at', ARGV[6])
        redis.call('EXPIRE', results, ARGV[7])
        \(endExecutionSource(thenIdle: thenIdle))
        \(here ? "redis.call('HDEL', job, 'prerender_notify')  -- the build is told in its own process" : notifyWaiters)
        return 1
        """
    }

    /// ARGV: queue, id, execution id, worker, now (iso), now (unix, float), failure ttl, exc_string (base64 of zlib),
    /// reason (plain text), audio key, seconds worked, started (unix, float), attempts (JSON list), dead-letter queue.
    /// A job that cannot succeed, or is out of retries: RQ's failed registry (so `rq info` counts it) and the
    /// dead-letter queue, with every attempt's reason. The dedup entry goes so that the next build tries again.
    static let fail = Script("""
    local queue, id, exec, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
    local counter, seconds = 'failed_job_count', ARGV[11]
    local job = 'rq:job:' .. id
    redis.call('ZREM', 'rq:wip:' .. queue, id .. ':' .. exec)
    redis.call('HSET', job, 'status', 'failed', 'ended_at', ARGV[5], 'last_heartbeat', ARGV[5], 'prerender_reason', ARGV[9],
      'prerender_attempts', ARGV[13])
    redis.call('EXPIRE', job, ARGV[7])
    redis.call('ZADD', 'rq:failed:' .. queue, math.floor(tonumber(ARGV[6]) + tonumber(ARGV[7])), id)
    local dead = 'rq:queue:' .. ARGV[14]
    redis.call('LREM', dead, 0, id)
    redis.call('RPUSH', dead, id)
    redis.call('SADD', 'rq:queues', dead)
    local results = 'rq:results:' .. id
    redis.call('XADD', results, 'MAXLEN', '~', '10', '*', 'type', '2', 'worker_name', worker,
      'exc_string', ARGV[8], 'execution_id', exec, 'execution_started_at', ARGV[12], 'execution_ended_at', ARGV[6])
    redis.call('EXPIRE', results, ARGV[7])
    local dedup = 'prerender:dedup:' .. queue .. ':' .. ARGV[10]
    if redis.call('GET', dedup) == id then redis.call('DEL', dedup) end
    \(endExecution)
    \(notifyWaiters)
    return 1
    """)

    /// ARGV: queue, id, execution id, worker, now (iso), delay seconds, attempts (JSON list), seconds worked,
    /// started (unix, float), job ttl, exc_string (base64 of zlib).
    /// A failed attempt that may succeed later: RQ's scheduled registry, scored by the time to run it (Redis' clock).
    static let retry = Script("""
    local queue, id, exec, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
    local counter, seconds = 'failed_job_count', ARGV[8]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local job = 'rq:job:' .. id
    redis.call('ZREM', 'rq:wip:' .. queue, id .. ':' .. exec)
    redis.call('HSET', job, 'status', 'scheduled', 'ended_at', ARGV[5], 'last_heartbeat', ARGV[5], 'prerender_attempts', ARGV[7])
    redis.call('EXPIRE', job, math.ceil(tonumber(ARGV[10]) + tonumber(ARGV[6])))
    redis.call('ZADD', 'rq:scheduled:' .. queue, now + tonumber(ARGV[6]), id)
    local results = 'rq:results:' .. id
    redis.call('XADD', results, 'MAXLEN', '~', '10', '*', 'type', '4', 'worker_name', worker,
      'exc_string', ARGV[11], 'execution_id', exec, 'execution_started_at', ARGV[9], 'execution_ended_at', tostring(now))
    redis.call('EXPIRE', results, math.ceil(tonumber(ARGV[10]) + tonumber(ARGV[6])))
    \(endExecution)
    return 1
    """)

    /// ARGV: queue, most, now (iso). Moves scheduled jobs whose time has come back onto the queue
    /// (what RQ's scheduler does). Returns how many moved.
    static let promote = Script("""
    local queue = ARGV[1]
    local scheduled = 'rq:scheduled:' .. queue
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local due = redis.call('ZRANGEBYSCORE', scheduled, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
    for _, id in ipairs(due) do
      redis.call('ZREM', scheduled, id)
      local job = 'rq:job:' .. id
      if redis.call('HGET', job, 'status') == 'scheduled' then
        redis.call('HSET', job, 'status', 'queued', 'enqueued_at', ARGV[3])
        redis.call('RPUSH', 'rq:queue:' .. queue, id)
      end
    end
    return #due
    """)

    /// ARGV: queue, now (iso), intermediate grace seconds, max retries, failure ttl, dead-letter queue.
    /// Finds jobs whose worker stopped sending heartbeats (killed, machine lost): their wip deadline passed.
    /// Each goes back to the front of the queue, its lost attempt recorded; one out of retries becomes a
    /// dead letter. Also returns ids stranded in the intermediate list (a worker died between taking a job
    /// and starting it). Returns how many jobs went back to the queue.
    static let reap = Script("""
    local queue = ARGV[1]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local wip = 'rq:wip:' .. queue
    local requeued = 0
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', wip, '-inf', now, 'LIMIT', 0, 100)) do
      redis.call('ZREM', wip, member)
      local sep = string.find(member, ':', 1, true)
      local id = sep and string.sub(member, 1, sep - 1) or member
      local exec = sep and string.sub(member, sep + 1) or ''
      local job = 'rq:job:' .. id
      local fields = redis.call('HMGET', job, 'status', 'worker_name', 'prerender_attempts')
      if fields[1] == 'started' then
        local attempts = cjson.decode(fields[3] or '[]')
        table.insert(attempts, 'the worker running it (' .. (fields[2] or '?') .. ') stopped sending heartbeats')
        local encoded = cjson.encode(attempts)
        if #attempts > tonumber(ARGV[4]) then
          redis.call('HSET', job, 'status', 'failed', 'ended_at', ARGV[2], 'prerender_attempts', encoded,
            'prerender_reason', 'failed ' .. #attempts .. ' attempts; the last: its worker stopped sending heartbeats')
          redis.call('EXPIRE', job, ARGV[5])
          redis.call('ZADD', 'rq:failed:' .. queue, math.floor(now + tonumber(ARGV[5])), id)
          redis.call('RPUSH', 'rq:queue:' .. ARGV[6], id)
          redis.call('SADD', 'rq:queues', 'rq:queue:' .. ARGV[6])
          \(notifyWaiters)
        else
          redis.call('HSET', job, 'status', 'queued', 'worker_name', '', 'started_at', '', 'prerender_attempts', encoded)
          redis.call('LPUSH', 'rq:queue:' .. queue, id)
          requeued = requeued + 1
        end
        if fields[2] then redis.call('SREM', 'rq:worker:' .. fields[2] .. ':executions', member) end
      end
      redis.call('DEL', 'rq:execution:' .. id .. ':' .. exec)
      redis.call('ZREM', 'rq:executions:' .. id, exec)
    end
    local intermediate = 'rq:queue:' .. queue .. ':intermediate'
    for _, id in ipairs(redis.call('LRANGE', intermediate, 0, 99)) do
      local seen = 'prerender:intermediate:' .. queue .. ':' .. id
      local first = redis.call('GET', seen)
      if not first then
        redis.call('SET', seen, tostring(now), 'EX', 600)
      elseif now - tonumber(first) > tonumber(ARGV[3]) then
        redis.call('LREM', intermediate, 1, id)
        redis.call('DEL', seen)
        if redis.call('HGET', 'rq:job:' .. id, 'status') == 'queued' then
          redis.call('LPUSH', 'rq:queue:' .. queue, id)
          requeued = requeued + 1
        end
      end
    end
    return requeued
    """)

    /// ARGV: queue, id, execution id, worker, now (iso).
    /// A stopping worker hands a job it has not finished back to the front of the queue, untouched.
    static let giveBack = Script("""
    local queue, id, exec, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
    local counter, seconds = 'successful_job_count', 0
    local job = 'rq:job:' .. id
    if redis.call('ZREM', 'rq:wip:' .. queue, id .. ':' .. exec) == 1 and redis.call('HGET', job, 'status') == 'started' then
      redis.call('HSET', job, 'status', 'queued', 'worker_name', '', 'started_at', '')
      redis.call('LPUSH', 'rq:queue:' .. queue, id)
    end
    redis.call('DEL', 'rq:execution:' .. id .. ':' .. exec)
    redis.call('ZREM', 'rq:executions:' .. id, exec)
    local w = 'rq:worker:' .. worker
    redis.call('SREM', w .. ':executions', id .. ':' .. exec)
    if redis.call('EXISTS', w) == 1 then redis.call('HSET', w, 'state', 'idle') end
    return 1
    """)

    /// ARGV: queue, id, dead-letter queue, now (iso), dedup ttl, audio key.
    /// Puts a dead letter back on the queue with fresh retries. Returns 0 when it is no longer a failed job.
    static let requeueDead = Script("""
    local queue, id = ARGV[1], ARGV[2]
    local job = 'rq:job:' .. id
    redis.call('LREM', 'rq:queue:' .. ARGV[3], 0, id)
    if redis.call('HGET', job, 'status') ~= 'failed' then return 0 end
    local history = redis.call('HGET', job, 'prerender_attempts') or '[]'
    redis.call('HSET', job, 'status', 'queued', 'enqueued_at', ARGV[4], 'prerender_attempts', '[]',
      'prerender_previous_attempts', history, 'prerender_reason', '', 'ended_at', '', 'started_at', '', 'worker_name', '')
    redis.call('ZREM', 'rq:failed:' .. queue, id)
    redis.call('RPUSH', 'rq:queue:' .. queue, id)
    redis.call('SET', 'prerender:dedup:' .. queue .. ':' .. ARGV[6], id, 'EX', ARGV[5])
    return 1
    """)

    /// ARGV: queue, worker, now (iso), now (unix seconds), now (unix, float), job id or "", execution id or "",
    /// heartbeat timeout.
    /// Keeps a worker and its running job alive for `rq info`. Returns 0 when the worker's key is gone
    /// (it must register again), 1 otherwise.
    static let heartbeat = Script("""
    local queue, worker, id, exec = ARGV[1], ARGV[2], ARGV[6], ARGV[7]
    local now, window = tonumber(ARGV[4]), tonumber(ARGV[8])
    local w = 'rq:worker:' .. worker
    if redis.call('EXISTS', w) == 0 then return 0 end
    redis.call('HSET', w, 'last_heartbeat', ARGV[3])
    if id == '' then
      redis.call('EXPIRE', w, \(idleWorkerTTL))
      return 1
    end
    redis.call('EXPIRE', w, window)
    redis.call('EXPIRE', w .. ':executions', (window + 60))
    redis.call('ZADD', 'rq:wip:' .. queue, 'XX', now + window, id .. ':' .. exec)
    local execution = 'rq:execution:' .. id .. ':' .. exec
    if redis.call('EXISTS', execution) == 1 then
      redis.call('HSET', execution, 'last_heartbeat', ARGV[5])
      redis.call('EXPIRE', execution, window)
    end
    redis.call('ZADD', 'rq:executions:' .. id, 'XX', now + (window + 60), exec)
    redis.call('EXPIRE', 'rq:executions:' .. id, (window + 60))
    redis.call('HSET', 'rq:job:' .. id, 'last_heartbeat', ARGV[3])
    return 1
    """)

    /// Seconds an idle worker's key lives without a heartbeat (RQ: 420 + 60).
    static let idleWorkerTTL = 480

    /// A Lua script, sent by its SHA1 (EVALSHA) once Redis has it.
    struct Script: Sendable {
        let source: String

        init(_ source: String) {
            self.source = source
        }
    }
}
