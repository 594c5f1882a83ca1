import CoreMetrics

/// What the pipeline counts, through swift-metrics' API: the executable chooses the backend
/// (Prometheus for `prerender worker --metrics-port`); without one these cost next to nothing.
/// Names as in the architecture document.
enum PipelineMetrics {
    static func submitted(_ count: Int, queue: String) {
        guard count > 0 else { return }
        Counter(label: "tts_jobs_submitted_total", dimensions: [("queue", queue)]).increment(by: count)
    }

    static func completed(queue: String, seconds: Double) {
        Counter(label: "tts_jobs_completed_total", dimensions: [("queue", queue)]).increment()
        Timer(label: "tts_job_duration_seconds", dimensions: [("queue", queue)]).recordSeconds(seconds)
    }

    static func failed(queue: String) {
        Counter(label: "tts_jobs_failed_total", dimensions: [("queue", queue)]).increment()
    }

    static func retried(queue: String) {
        Counter(label: "tts_job_retries_total", dimensions: [("queue", queue)]).increment()
    }

    /// A worker was told to wait by the account's limiter (rate, concurrency, Retry-After, circuit).
    static func rateLimitWait(account: String, reason: String, seconds: Double) {
        Counter(label: "tts_rate_limit_waits_total", dimensions: [("account", account), ("reason", reason)]).increment()
        FloatingPointCounter(label: "tts_rate_limit_wait_seconds_total", dimensions: [("account", account)]).increment(by: seconds)
    }
}
