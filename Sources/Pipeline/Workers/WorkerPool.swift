import Foundation
import Logging
import RedisClient
import Synchronization

/// Workers running in this process, each on its own thread, plus one thread that sends their heartbeats.
public final class WorkerPool: Sendable {
    let endpoint: RedisEndpoint
    /// The queues every worker serves, in priority order.
    let queues: [QueueSettings]
    let rules: ValidationRules
    let factory: SynthesizerFactory
    let count: Int
    let logger: Logger
    let local: LocalResults?
    let state = SharedState()
    private let finished = DispatchGroup()
    public let identities: [WorkerIdentity]

    /// Seconds between looks for scheduled retries whose time has come.
    static let promoteInterval = 0.25

    public convenience init(count: Int, endpoint: RedisEndpoint, settings: QueueSettings, rules: ValidationRules,
                            factory: SynthesizerFactory, logger: Logger) {
        self.init(count: count, endpoint: endpoint, queues: [settings], rules: rules, factory: factory, logger: logger)
    }

    /// Workers serving several queues in priority order (a pool of the architecture document).
    public convenience init(count: Int, endpoint: RedisEndpoint, queues: [QueueSettings], rules: ValidationRules,
                            factory: SynthesizerFactory, logger: Logger) {
        self.init(count: count, endpoint: endpoint, queues: queues, rules: rules, factory: factory, logger: logger, local: nil)
    }

    /// `local`: in a build's process, where the build's own jobs' audio goes instead of through Redis.
    init(count: Int, endpoint: RedisEndpoint, queues: [QueueSettings], rules: ValidationRules,
         factory: SynthesizerFactory, logger: Logger, local: LocalResults?) {
        precondition(!queues.isEmpty, "a worker pool needs a queue")
        self.local = local
        self.count = count
        self.endpoint = endpoint
        self.queues = queues
        self.rules = rules
        self.factory = factory
        self.logger = logger
        identities = (0..<count).map { WorkerIdentity.make(queues: queues.map(\.name), index: $0) }
    }

    /// Starts the worker threads and the heartbeat thread.
    public func start() {
        for identity in identities {
            let worker = Worker(identity: identity, endpoint: endpoint, queues: queues, rules: rules,
                                factory: factory, state: state, logger: logger, local: local)
            spawn(name: "prerender-worker") { worker.run() }
        }
        spawn(name: "prerender-maintenance") { [self] in maintenance() }
    }

    /// Stops taking jobs, lets the jobs in hand finish, deregisters, and waits for every thread.
    /// With `abandonJobsInHand`, requests under way are cut off instead (Ctrl-C: nobody waits for them).
    public func stop(abandonJobsInHand: Bool = false) {
        state.stop(abandon: abandonJobsInHand)
        finished.wait()
    }

    /// Cuts off requests under way and hands the jobs in hand back to their queues (a second Ctrl-C).
    public func abandon() {
        state.stop(abandon: true)
    }

    /// What this process's workers have done since they started.
    public struct Statistics: Sendable {
        public var completed: Int
        /// Jobs that ended as dead letters (retries are not counted).
        public var failed: Int
        /// Seconds spent on those jobs.
        public var seconds: Double

        public var averageSeconds: Double { completed + failed > 0 ? seconds / Double(completed + failed) : 0 }
        public var errorRate: Double { completed + failed > 0 ? Double(failed) / Double(completed + failed) : 0 }
    }

    public var statistics: Statistics { state.statistics }

    /// How many workers hold a job right now.
    public var busyWorkers: Int { identities.filter { state.running(for: $0.name) != nil }.count }

    /// The first error that kept a worker from starting at all (a synthesizer that cannot run).
    public var fatalError: String? { state.fatal }

    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Heartbeats for every worker, scheduled retries moved back onto the queue when their time comes
    /// (RQ's scheduler does the same for RQ's own workers), and the jobs of dead workers returned.
    private func maintenance() {
        var connected: [JobQueue] = []
        var nextHeartbeat = Date()
        var nextReap = Date()
        while !state.isStopping {
            do {
                if connected.isEmpty {
                    let connection = try RedisConnection(endpoint)
                    connected = queues.map { JobQueue(connection: connection, settings: $0) }
                }
                if Date() >= nextHeartbeat {
                    nextHeartbeat = Date().addingTimeInterval(Double(queues[0].heartbeatTimeout) / 3)
                    for identity in identities {
                        try connected[0].heartbeat(identity, running: state.running(for: identity.name))
                    }
                }
                for queue in connected { try queue.promoteDueRetries() }
                if Date() >= nextReap {
                    nextReap = Date().addingTimeInterval(1)
                    for queue in connected { try queue.reapLostJobs() }
                }
            } catch {
                logger.warning("worker maintenance: \(error)")
                connected = []
            }
            state.waitForStop(seconds: Self.promoteInterval)
        }
    }

    /// What the worker threads and the heartbeat thread share.
    final class SharedState: Sendable {
        private struct Values {
            var completed = 0
            var failed = 0
            var seconds = 0.0
            var running: [String: JobQueue.TakenJob] = [:]
            var fatal: String?
        }
        private let values = Mutex(Values())
        private let stopSignal = DispatchSemaphore(value: 0)
        // Atomics, not the mutex: libcurl asks `isAbandoning` many times a request from every worker, and a
        // contended Mutex is a futex call each time (a tenth of a Murf build's kernel time with 8 workers).
        private let stopping = Atomic(false)
        private let abandoning = Atomic(false)

        var isStopping: Bool { stopping.load(ordering: .acquiring) }
        var isAbandoning: Bool { abandoning.load(ordering: .acquiring) }
        var fatal: String? { values.withLock { $0.fatal } }

        func stop(abandon: Bool) {
            if abandon { abandoning.store(true, ordering: .releasing) }
            stopping.store(true, ordering: .releasing)
            stopSignal.signal()
        }

        func waitForStop(seconds: Double) {
            if stopSignal.wait(timeout: .now() + seconds) == .success { stopSignal.signal() }
        }

        func setRunning(_ job: JobQueue.TakenJob?, for worker: String) {
            values.withLock { $0.running[worker] = job }
        }

        func running(for worker: String) -> JobQueue.TakenJob? {
            values.withLock { $0.running[worker] }
        }

        func recordJob(seconds: Double, failed: Bool) {
            values.withLock {
                if failed { $0.failed += 1 } else { $0.completed += 1 }
                $0.seconds += seconds
            }
        }

        var statistics: WorkerPool.Statistics {
            values.withLock { WorkerPool.Statistics(completed: $0.completed, failed: $0.failed, seconds: $0.seconds) }
        }

        func recordFatal(_ message: String) {
            values.withLock { if $0.fatal == nil { $0.fatal = message } }
        }
    }
}
