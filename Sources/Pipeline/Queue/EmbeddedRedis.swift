import Foundation
import RedisClient

/// A private `redis-server` for the length of one build: unix socket in a temporary folder,
/// persistence off, stopped (and its folder removed) by `stop()`, also after an error or Ctrl-C.
// @unchecked: `process` is started before the value is shared; afterwards it is only queried
// (isRunning) or stopped, and stop() runs its body once, guarded by `stopped`.
public final class EmbeddedRedis: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    public let directory: String
    private let process: Process
    private let stopped = Mutex(false)

    /// Starts the server and waits until it answers PING.
    /// - Parameter tcpPort: also listen on 127.0.0.1 at this port (tests use it for `rq info`); nil for the socket only.
    /// - Parameter persistentDirectory: keep the data there with an append-only file (and leave the folder
    ///   behind on stop), so that a server started again on it finds the data: for tests of Redis restarts.
    public static func start(command: String = "redis-server", tcpPort: Int? = nil, persistentDirectory: String? = nil,
                             startTimeout: Double = 10) throws -> EmbeddedRedis {
        guard let executable = ChildProcess.find(command) else {
            throw InfrastructureError("\(command) is not installed (Debian: apt-get install redis-server; `make run` installs it)")
        }
        let directory = persistentDirectory ?? NSTemporaryDirectory() + "prerender-redis-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let socket = "\(directory)/redis.sock"
        // It ends with this process however this process ends: see `watch`.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(tcpPort ?? 0), "--bind", "127.0.0.1",
            "--unixsocket", socket, "--unixsocketperm", "700",
            "--save", "", "--appendonly", persistentDirectory == nil ? "no" : "yes", "--appendfsync", "always", "--dir", directory,
            "--logfile", "\(directory)/redis.log", "--daemonize", "no",
            // A job hash (RQ's layout) holds its data, a few hundred bytes: kept as a listpack up to 1 KB rather
            // than a hash table, it takes a third less memory and half the time to write. (The option's old name,
            // which Redis 6 knows too.)
            "--hash-max-ziplist-value", "1024",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw InfrastructureError("cannot start \(executable): \(error)")
        }
        let server = EmbeddedRedis(endpoint: RedisEndpoint(address: .unix(path: socket)), directory: directory, process: process,
                                   lifeline: Self.watch(process.processIdentifier, directory: persistentDirectory == nil ? directory : nil),
                                   keepsDirectory: persistentDirectory != nil)
        running.withLock { $0.append(server) }
        let deadline = Date().addingTimeInterval(startTimeout)
        while Date() < deadline {
            if !process.isRunning { break }
            if let connection = try? RedisConnection(server.endpoint, connectTimeout: 0.5, commandTimeout: 2),
               (try? connection.command("PING")) != nil {
                return server
            }
            usleep(20_000)
        }
        let log = (try? String(contentsOfFile: "\(directory)/redis.log", encoding: .utf8))?
            .split(separator: "\n").suffix(3).joined(separator: " | ") ?? ""
        server.stop()
        throw InfrastructureError("redis-server did not start within \(Int(startTimeout)) s\(log.isEmpty ? "" : ": \(log)")")
    }

    private let keepsDirectory: Bool
    /// The write end of the pipe the server's watcher reads (see `watch`); nil if the watcher could not start.
    private let lifeline: FileHandle?

    private init(endpoint: RedisEndpoint, directory: String, process: Process, lifeline: FileHandle?, keepsDirectory: Bool) {
        self.endpoint = endpoint
        self.directory = directory
        self.process = process
        self.lifeline = lifeline
        self.keepsDirectory = keepsDirectory
    }

    /// Starts a watcher for the server `pid`: a small sh reading a pipe whose write end only this process holds.
    /// A `stop` line from `stop()` sends it away quietly; the end of the pipe without one means this process died
    /// (even by SIGKILL, when no clean-up runs), and it kills the server and removes `directory` (nil: keep it).
    /// SIGKILL, because a child of this process inherits its blocked signal mask, SIGTERM included; the data is
    /// throwaway, or written with appendfsync always. A separate process rather than one forked beside the
    /// server: a fork would hold the descriptor Foundation watches to see the server exit.
    private static func watch(_ pid: Int32, directory: String?) -> FileHandle? {
        let lifeline = Pipe()
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", """
            if ! read -r _; then
              kill -9 "$1" 2>/dev/null
              while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
              if [ -n "$2" ]; then rm -rf "$2"; fi
            fi
            """, "redis-watch", String(pid), directory ?? ""]
        watcher.standardInput = lifeline
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        guard (try? watcher.run()) != nil else { return nil }
        try? lifeline.fileHandleForReading.close()  // the watcher has it
        return lifeline.fileHandleForWriting
    }

    public var isRunning: Bool { process.isRunning }

    /// Every private server this process started and has not stopped yet.
    private static let running = Mutex<[EmbeddedRedis]>([])

    /// Stops every private server this process started: for a hard exit (a second Ctrl-C) that skips the
    /// normal clean-up, so that no redis-server or temporary folder is left behind.
    public static func stopAll() {
        for server in running.withLock({ $0 }) { server.stop() }
    }

    /// Stops the server and removes its folder. Safe to call more than once and from a signal handler's queue.
    public func stop() {
        let first = stopped.withLock { (done: inout Bool) -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        Self.running.withLock { $0.removeAll { $0 === self } }
        if process.isRunning {
            // SHUTDOWN NOSAVE ends the server at once; SIGTERM only schedules a shutdown for a later tick.
            if let connection = try? RedisConnection(endpoint, connectTimeout: 1, commandTimeout: 2) {
                _ = try? connection.command("SHUTDOWN", keepsDirectory ? "SAVE" : "NOSAVE")
            }
            if process.isRunning { process.terminate() }
            let pid = process.processIdentifier
            let forceful = DispatchWorkItem { kill(pid, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: forceful)
            // waitUntilExit, not polling isRunning: on Linux isRunning can lag the exit by seconds.
            process.waitUntilExit()
            forceful.cancel()
        }
        try? lifeline?.write(contentsOf: Data("stop\n".utf8))
        try? lifeline?.close()
        if !keepsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    deinit { stop() }
}

/// Something the build needs is missing or unreachable: Redis, a synthesizer. Exit code 3.
public struct InfrastructureError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

import Synchronization
