/// What a build did, for the closing lines and the exit code.
public struct BuildSummary: Sendable {
    public var lessons = 0
    public var items = 0
    /// Distinct audio keys among the items.
    public var uniqueAudio = 0
    /// Keys already in the cache: no job.
    public var cached = 0
    /// Jobs this build put on the queue.
    public var enqueued = 0
    /// Jobs another build had already queued or started: this build waited for them.
    public var joined = 0
    /// Audio files written to the cache by this build.
    public var rendered = 0
    public var failures: [BuildFailure] = []
    /// Every item of the lessons built, in lesson and file order: for `--report` and `--junit`.
    public var itemResults: [ItemResult] = []
    /// The manifest describes every item: written, or already up to date.
    public var manifestWritten = false
    /// The manifest file's bytes changed.
    public var manifestChanged = false
    public var manifestPath = ""
    public var seconds = 0.0
    /// Redis commands this process sent during the build (workers in this process included).
    public var redisCommands = 0

    public init() {}
}

/// One item without valid audio, with the reason its job failed.
public struct BuildFailure: Sendable, CustomStringConvertible {
    public var lesson: String
    public var item: String
    public var source: String
    public var line: Int
    public var key: String
    public var reason: String

    public var description: String {
        "\(source):\(line): \(lesson)/\(item): \(reason)"
    }
}

/// What became of one item.
public struct ItemResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case rendered, cached, failed }

    public var lesson: String
    public var item: String
    public var source: String
    public var line: Int
    public var key: String
    public var status: Status
    /// Attempts of the job behind the item in this build (0 when cached).
    public var attempts: Int
    /// Seconds the last attempt took, when this build rendered it.
    public var seconds: Double?
    public var reason: String?
}

/// Progress reports while a build runs.
public enum BuildEvent: Sendable {
    /// Lessons read and expanded.
    case planned(lessons: Int, items: Int, unique: Int, cached: Int, toRender: Int)
    case redisStarted(String)
    case enqueued(queue: String, new: Int, joined: Int)
    /// No workers run in this process: the jobs wait for workers elsewhere on this Redis.
    case waitingForWorkers(String)
    /// Nothing ended for 30 s; `workers` serve the queue (0: nobody is working on it).
    case stalled(queue: String, workers: Int)
    /// A job ended: how many of the build's jobs have ended so far.
    case progress(done: Int, failed: Int, total: Int)
}

/// The build was stopped (Ctrl-C, SIGTERM) before it finished. Exit code 130.
public struct BuildInterrupted: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted: nothing more was written; the previous manifest is unchanged" }
}
