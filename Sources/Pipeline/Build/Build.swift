import AudioIO
import Foundation
import Logging
import RedisClient
import Synchronization

/// `prerender build`: lessons -> jobs -> queue -> workers -> results -> cache -> manifest.
/// Only the build writes the output folder; workers hand their audio back through Redis.
public final class Build: Sendable {
    public struct Options: Sendable {
        public var config: PipelineConfig
        public var environment: [String: String]
        /// Workers run in this process; 0 leaves the work to workers elsewhere on the same Redis.
        public var workers: Int
        /// Only these lessons (`--lesson`); nil for all. The manifest keeps the others' previous entries.
        public var lessons: [String]?
        /// Refuse a paid render that would send more characters than this (`--max-characters`).
        public var maxCharacters: Int?
        /// Only lessons whose manifest entry would change (`--only-changed`); the others keep theirs.
        public var onlyChanged = false

        public init(config: PipelineConfig, environment: [String: String], workers: Int? = nil,
                    lessons: [String]? = nil, maxCharacters: Int? = nil) {
            self.config = config
            self.environment = environment
            self.workers = workers ?? config.queue.workers
            self.lessons = lessons
            self.maxCharacters = maxCharacters
        }
    }

    let options: Options
    let logger: Logger
    let progress: @Sendable (BuildEvent) -> Void
    private let cancelled = Mutex(false)

    public init(options: Options, logger: Logger, progress: @escaping @Sendable (BuildEvent) -> Void = { _ in }) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Asks a running build to stop; `run` then cleans up and throws `BuildInterrupted`.
    public func cancel() { cancelled.withLock { $0 = true } }
    var isCancelled: Bool { cancelled.withLock { $0 } }

    /// Runs the whole build. Blocks the calling thread (run it on a thread of its own, not a Swift task).
    /// Throws `InvalidInput` (exit 2), `InfrastructureError` (exit 3) or `BuildInterrupted`.
    public func run() throws -> BuildSummary {
        let started = Date()
        let commandsBefore = RedisCommandCount.total
        let config = options.config
        let manifestPath = "\(config.outputDirectory)/\(Manifest.fileName)"
        // The previous manifest is read on another thread while the lessons load: for a large cached build
        // (a no-op rebuild) they are the two biggest costs, and independent.
        let previousManifest = Background { Manifest.load(from: manifestPath) }
        let allLessons = try LessonLoader(config: config).loadAll(from: config.lessonsDirectory)
        let previous = previousManifest.value
        var lessons = try Self.select(options.lessons, from: allLessons)
        if options.onlyChanged, let previous {
            lessons = Self.changed(lessons, since: previous, config: config)
        }
        let plan = BuildPlan(lessons: lessons, config: config)
        let cache = AudioCache(root: config.outputDirectory)

        var summary = BuildSummary()
        summary.lessons = lessons.count
        summary.items = plan.itemCount
        summary.uniqueAudio = plan.jobs.count
        summary.manifestPath = manifestPath
        var (cachedEntries, pending) = Self.lookUp(plan.jobs, in: cache, previous: previous, logger: logger)
        summary.cached = cachedEntries.count
        if let budget = options.maxCharacters, !config.synthesizer.isFree {
            let characters = pending.reduce(0) { $0 + $1.text.count }
            if characters > budget {
                throw InvalidInput([Diagnostic(path: "--max-characters", line: 0, column: 0, message:
                    "this build would send \(characters) characters to \(config.synthesizer.rawValue), over the budget of \(budget); nothing was sent")])
            }
        }
        progress(.planned(lessons: lessons.count, items: plan.itemCount, unique: plan.jobs.count, cached: summary.cached, toRender: pending.count))
        if !pending.isEmpty && options.workers > 0 {
            // Every voice and style the lessons use must exist for this synthesizer, before anything is enqueued.
            do {
                try VoiceCatalog.check(lessons, config: config, environment: options.environment)
            } catch let error as SynthesisError {
                throw InfrastructureError(error.message)
            }
        }

        var rendered: [String: Manifest.Audio] = [:]
        var failedKeys: [String: String] = [:]
        var details: [String: (attempts: Int, seconds: Double?)] = [:]
        if !pending.isEmpty {
            (rendered, failedKeys, details) = try render(pending, cache: cache, summary: &summary)
            pending = []  // large builds: every byte held here is held while the manifest is written
        }
        for job in plan.jobs where failedKeys[job.key] == nil && rendered[job.key] == nil && cachedEntries[job.key] == nil {
            failedKeys[job.key] = "no audio came back for this key"
        }

        summary.itemResults.reserveCapacity(plan.itemCount)
        for (lesson, keys) in zip(plan.lessons, plan.itemKeys) {
            for (item, key) in zip(lesson.items, keys) {
                let status: ItemResult.Status = failedKeys[key] != nil ? .failed : rendered[key] != nil ? .rendered : .cached
                summary.itemResults.append(ItemResult(
                    lesson: lesson.id, item: item.id, source: lesson.source, line: item.line, key: key, status: status,
                    attempts: details[key]?.attempts ?? 0, seconds: details[key]?.seconds, reason: failedKeys[key]))
                if let reason = failedKeys[key] {
                    summary.failures.append(BuildFailure(lesson: lesson.id, item: item.id, source: lesson.source, line: item.line, key: key, reason: reason))
                }
            }
        }
        if summary.failures.isEmpty {
            // Audio entries for every key the lessons use: fresh ones from this build, the rest from the cache
            // (the fresh ones' dictionary becomes the manifest's, not copied).
            var audio = rendered
            rendered = [:]
            audio.merge(cachedEntries) { fresh, _ in fresh }
            cachedEntries = [:]
            var manifestLessons = plan.lessons.enumerated().map { index, lesson in
                Manifest.Lesson(id: lesson.id, title: lesson.title, source: lesson.source, items: zip(lesson.items, plan.itemKeys[index]).map { item, key in
                    Manifest.Item(id: item.id, text: item.text, speaker: item.speaker, voice: item.voice, audio: key)
                })
            }
            // With --lesson, the other lessons keep what the previous manifest says of them (if they still exist).
            if options.lessons != nil || options.onlyChanged, let previous {
                let built = Set(manifestLessons.map(\.id))
                let existing = Set(allLessons.map(\.id))
                for lesson in previous.lessons where !built.contains(lesson.id) && existing.contains(lesson.id) {
                    manifestLessons.append(lesson)
                    for item in lesson.items { audio[item.audio] = audio[item.audio] ?? previous.audio[item.audio] }
                }
            }
            let manifest = Manifest(lessons: manifestLessons, audio: audio)
            do {
                summary.manifestChanged = try manifest.write(to: manifestPath, previous: previous)
            } catch {
                throw InfrastructureError("cannot write \(manifestPath): \(error)")
            }
            summary.manifestWritten = true
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.redisCommands = RedisCommandCount.total - commandsBefore
        return summary
    }

    /// Enqueues the jobs, runs the in-process workers, and collects every result into the cache.
    private func render(_ jobs: [RenderJob], cache: AudioCache, summary: inout BuildSummary) throws
        -> ([String: Manifest.Audio], [String: String], [String: (attempts: Int, seconds: Double?)]) {
        let config = options.config
        let factory = SynthesizerFactory(config: config, environment: options.environment)
        if options.workers > 0 {
            do {
                try factory.preflight()
            } catch let error as SynthesisError {
                throw InfrastructureError(error.message)
            }
        }

        var embedded: EmbeddedRedis?
        defer { embedded?.stop() }
        let endpoint: RedisEndpoint
        if config.usesEmbeddedRedis {
            embedded = try EmbeddedRedis.start()
            endpoint = embedded!.endpoint
            progress(.redisStarted("private redis-server at \(endpoint)"))
        } else {
            do {
                endpoint = try RedisEndpoint(url: config.redisURL)
            } catch {
                throw InvalidInput([Diagnostic(path: config.source, line: 0, column: 0, message: "redis.url: \(error)")])
            }
        }
        let collector: Collector
        do {
            collector = try Collector(jobs: jobs, endpoint: endpoint, settings: config.queue, cache: cache, logger: logger)
        } catch {
            throw InfrastructureError("cannot reach Redis: \(error)")
        }
        defer { collector.finish() }
        do {
            try collector.enqueue()
        } catch {
            throw InfrastructureError("cannot enqueue on \(endpoint): \(error)")
        }
        summary.enqueued = collector.enqueued
        summary.joined = collector.joined
        progress(.enqueued(queue: config.queue.name, new: summary.enqueued, joined: summary.joined))

        Memory.releaseFreePages()  // before the workers start: what loading, planning and enqueueing freed
        var pool: WorkerPool?
        if options.workers > 0 {
            // No more workers than jobs: each one is a thread, a Redis connection and a synthesizer.
            pool = WorkerPool(count: min(options.workers, max(summary.enqueued, 1)), endpoint: endpoint, queues: [config.queue],
                              rules: config.validation, factory: factory, logger: logger, local: collector.local)
            pool!.start()
        } else {
            progress(.waitingForWorkers(endpoint.description))
        }
        defer { pool?.stop(abandonJobsInHand: isCancelled) }

        try collector.collect(
            localWorkers: pool != nil,
            shouldStop: { [self] in
                if isCancelled { throw BuildInterrupted() }
                if let fatal = pool?.fatalError { throw InfrastructureError(fatal) }
                if let embedded, !embedded.isRunning { throw InfrastructureError("the private redis-server stopped") }
            },
            progress: { [self] done, failed, total in progress(.progress(done: done, failed: failed, total: total)) },
            idle: { [self] workers in progress(.stalled(queue: config.queue.name, workers: workers)) })
        summary.rendered = collector.rendered.count
        let rendered = collector.rendered
        return (rendered, collector.failed, collector.details)
    }

    /// The lessons whose manifest entry would change (new, edited, renamed voices or settings that change keys).
    static func changed(_ lessons: [Lesson], since previous: Manifest, config: PipelineConfig) -> [Lesson] {
        let before = Dictionary(previous.lessons.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let plan = BuildPlan(lessons: lessons, config: config)
        return zip(lessons, plan.itemKeys).filter { lesson, keys in
            let now = Manifest.Lesson(id: lesson.id, title: lesson.title, source: lesson.source, items: zip(lesson.items, keys).map { item, key in
                Manifest.Item(id: item.id, text: item.text, speaker: item.speaker, voice: item.voice, audio: key)
            })
            return before[lesson.id] != now
        }.map(\.0)
    }

    /// Only the lessons asked for (`--lesson`), or all; an unknown id is invalid input.
    static func select(_ ids: [String]?, from lessons: [Lesson]) throws -> [Lesson] {
        guard let ids, !ids.isEmpty else { return lessons }
        let known = Set(lessons.map(\.id))
        let unknown = ids.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw InvalidInput(unknown.map { Diagnostic(path: "--lesson", line: 0, column: 0,
                                                        message: "no lesson with id '\($0)'; lessons: \(known.sorted().joined(separator: ", "))") })
        }
        return lessons.filter { ids.contains($0.id) }
    }

    /// Splits jobs into audio already cached (with its manifest entry) and jobs to render. A cached file that
    /// cannot be read as valid audio is deleted and rendered again.
    static func lookUp(_ jobs: [RenderJob], in cache: AudioCache, previous: Manifest?, logger: Logger?,
                       rules: ValidationRules = ValidationRules()) -> (cached: [String: Manifest.Audio], pending: [RenderJob]) {
        var cached: [String: Manifest.Audio] = [:]
        var pending: [RenderJob] = []
        for job in jobs {
            if let size = cache.size(key: job.key, format: job.fileFormat) {
                if let entry = cachedEntry(for: job, size: size, cache: cache, previous: previous, rules: rules) {
                    cached[job.key] = entry
                    continue
                }
                if let logger {
                    logger.warning("the cached file for \(job.key) is not valid audio: rendering it again")
                    try? FileManager.default.removeItem(atPath: cache.path(key: job.key, format: job.fileFormat))
                }
            }
            pending.append(job)
        }
        return (cached, pending)
    }

    /// The manifest entry of audio already in the cache: reused from the previous manifest when the file
    /// still has the recorded size, measured again otherwise.
    static func cachedEntry(for job: RenderJob, size: Int, cache: AudioCache, previous: Manifest?, rules: ValidationRules) -> Manifest.Audio? {
        if let entry = previous?.audio[job.key], entry.bytes == size, entry.voice == job.voice {
            return entry
        }
        guard let bytes = cache.read(key: job.key, format: job.fileFormat),
              var report = try? AudioCheck(rules: rules, expected: job.delivered).check(bytes, text: job.text) else {
            return nil
        }
        if job.mastering != nil, let measured = try? AudioCheck.loudness(of: bytes) {
            report.lufs = measured.lufs
            report.truePeakDB = measured.truePeakDB
        }
        return Manifest.Audio(job: job, bytes: bytes, report: report)
    }
}
