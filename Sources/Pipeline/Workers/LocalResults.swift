import Foundation

/// What a build's own workers hand straight to its collector: the audio, its digest and its report, without
/// a trip of the file through Redis (a SET by the worker and a GET by the build, 80 KB each way for a Murf
/// line), and the news that the job ended, without a trip through the build's notification list (a push by
/// the worker's script, a pop by the build). Redis still records the job as RQ would. Bounded: a worker
/// waits while `capacity` results are uncollected, so a build's memory stays flat however fast its workers are.
final class LocalResults: @unchecked Sendable {
    struct Result: Sendable {
        var audio: [UInt8]
        var sha256: String
        var report: AudioReport
        var attempts: Int
        var seconds: Double
    }

    /// The build's notification list: jobs enqueued by this build (and joined by no other) finish here.
    let notifyList: String
    /// The build's jobs by audio key: its workers take a job of this build from here rather than decode its
    /// data (JSONDecoder was 6% of a busy build's CPU). Any job with the same key asks for the same audio.
    let jobs: JobTable
    let capacity: Int
    // @unchecked: `results` and `finished` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var results: [String: Result] = [:]
    /// Jobs finished here (in Redis too), in the order they finished, that the collector has not heard of.
    private var finished: [String] = []

    init(notifyList: String, jobs: JobTable = JobTable([]), capacity: Int = 64) {
        self.notifyList = notifyList
        self.jobs = jobs
        self.capacity = capacity
    }

    /// Leaves a result for the collector, waiting while the collector is `capacity` behind (unless `stopping`).
    func put(_ result: Result, id: String, stopping: () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        while results.count >= capacity && !stopping() {
            _ = condition.wait(until: Date().addingTimeInterval(0.1))
        }
        results[id] = result
    }

    /// The job whose result was `put` is finished in Redis: the collector hears of it from `waitForFinished`.
    func announce(_ id: String) {
        condition.lock()
        defer { condition.unlock() }
        finished.append(id)
        condition.broadcast()
    }

    /// Waits up to `timeout` seconds for jobs to be announced; returns their ids (maybe none).
    func waitForFinished(timeout: Double) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        if finished.isEmpty { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        defer { finished = [] }
        return finished
    }

    /// The result of job `id`, removed; nil when a worker of this process did not finish it here.
    func take(_ id: String) -> Result? {
        condition.lock()
        defer { condition.unlock() }
        guard let result = results.removeValue(forKey: id) else { return nil }
        condition.broadcast()
        return result
    }

    /// Drops a result that went through Redis after all (another build waits for the same audio).
    func remove(_ id: String) { _ = take(id) }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return results.count
    }
}

/// A build's jobs (the array it was given, not copies) and where each key's job is in it.
struct JobTable: Sendable {
    let jobs: [RenderJob]
    private let index: [String: Int]

    init(_ jobs: [RenderJob]) {
        self.jobs = jobs
        var index: [String: Int] = [:]
        index.reserveCapacity(jobs.count)
        for (n, job) in jobs.enumerated() { index[job.key] = n }
        self.index = index
    }

    subscript(key: String) -> RenderJob? { index[key].map { jobs[$0] } }
}
