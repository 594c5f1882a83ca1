import ArgumentParser
import Foundation
import Logging
import Pipeline
import RedisClient

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve a queue on a shared Redis until stopped: the way to scale past one machine.",
        discussion: """
        Runs a worker pool from pipeline.yaml's pools (tts_batch by default): its queues in priority order, \
        its number of workers and its job timeout. Workers register in RQ's worker registry with heartbeats, \
        so `rq info` lists them; they obey the synthesizer account's shared limits; they hand audio back \
        through Redis, so no shared disk is needed. Only `prerender build` writes Output/.

        SIGTERM or Ctrl-C: stop taking jobs, finish the ones in hand (bounded by the job timeout), \
        deregister, exit 0. A second signal stops at once; the jobs in hand go back to their queue. \
        A worker that dies (kill -9, a lost machine) stops sending heartbeats: any other worker or build \
        returns its job to the queue within about 31 seconds.

        Examples:
          On each worker machine, with the same pipeline.yaml:
            prerender worker --redis redis://queue-host:6379/0 --concurrency 4
          On the machine that writes Output/:
            prerender build --redis redis://queue-host:6379/0 --no-workers
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The pool to run (pipeline.yaml's pools).", valueName: "name"))
    var pool = "tts_batch"

    @Option(name: .long, help: ArgumentHelp("Workers in this process (default: the pool's workers).", valueName: "n"))
    var concurrency: Int?

    @Option(name: .long, help: ArgumentHelp("espeak or murf (default: pipeline.yaml's synthesizer).", valueName: "name"))
    var synthesizer: SynthesizerKind?

    @Flag(name: .long, help: "Exit 0 once the pool's queues are empty and no job is running (for CI and scripts).")
    var burst = false

    @Option(name: .long, help: ArgumentHelp("text, or json: one JSON object per line.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(name: .long, help: ArgumentHelp("Serve GET /metrics (Prometheus) and GET /health/queue on this port.", valueName: "port"))
    var metricsPort: Int?

    @Option(name: .long, help: ArgumentHelp("The address the metrics port listens on.", valueName: "ipv4"))
    var metricsHost = "0.0.0.0"

    func validate() throws {
        if let concurrency, concurrency < 1 || concurrency > 256 { throw ValidationError("--concurrency must be from 1 to 256") }
        if let metricsPort, metricsPort < 0 || metricsPort > 65_535 { throw ValidationError("--metrics-port must be from 0 to 65535") }
    }

    func run() throws {
        let console = Console(quiet: false)
        var settings = try options.load(console)
        if let synthesizer { settings.synthesizer = synthesizer }
        guard let poolSettings = settings.pools[pool] else {
            console.problem("error: no pool '\(pool)' in \(settings.source); pools: \(settings.pools.keys.sorted().joined(separator: ", "))")
            throw ExitCode.invalidInput
        }
        let connection = try options.sharedRedis(settings, console, for: "workers")
        let queues = poolSettings.queues.map { name -> QueueSettings in
            var queue = settings.queue
            queue.name = name
            queue.jobTimeout = poolSettings.timeout
            return queue
        }
        let factory = SynthesizerFactory(config: settings, environment: ProcessInfo.processInfo.environment)
        do {
            try factory.preflight()
        } catch let error as SynthesisError {
            console.problem("error: \(error.message)")
            throw ExitCode.infrastructure
        }
        let logger = logFormat.logger(level: .info)
        let workers = WorkerPool(count: concurrency ?? poolSettings.workers, endpoint: connection.endpoint, queues: queues,
                                 rules: settings.validation, factory: factory, logger: logger)
        var metrics: MetricsEndpoint?
        if let metricsPort {
            do {
                metrics = try MetricsEndpoint(host: metricsHost, port: metricsPort, endpoint: connection.endpoint,
                                              queues: poolSettings.queues, workers: workers)
                logger.info("serving metrics", metadata: ["url": "http://\(metricsHost):\(metrics!.port)/metrics"])
            } catch {
                console.problem("error: metrics: \(error)")
                throw ExitCode.infrastructure
            }
        }
        defer { metrics?.stop() }
        workers.start()
        logger.info("worker pool started", metadata: [
            "pool": "\(pool)", "workers": "\(workers.identities.count)", "queues": "\(poolSettings.queues.joined(separator: ","))",
            "redis": "\(connection.endpoint)", "synthesizer": "\(settings.synthesizer.rawValue)",
        ])

        let stop = DispatchSemaphore(value: 0)
        let signals = SignalTrap { count in
            if count == 1 {
                logger.info("stopping: no new jobs; finishing the jobs in hand")
                stop.signal()
            } else {
                logger.warning("stopping at once: the jobs in hand go back to their queue")
                workers.abandon()
            }
        }
        defer { signals.release() }
        if burst {
            let queueList = queues.map { JobQueue(connection: connection, settings: $0) }
            while stop.wait(timeout: .now() + 0.5) == .timedOut {
                if workers.fatalError != nil { break }
                if workers.busyWorkers == 0, try queueList.allSatisfy({ try $0.isIdle() }) { break }
            }
        } else {
            stop.wait()
        }
        workers.stop()
        if let fatal = workers.fatalError {
            console.problem("error: \(fatal)")
            throw ExitCode.infrastructure
        }
        logger.info("worker pool stopped", metadata: ["pool": "\(pool)"])
    }
}
