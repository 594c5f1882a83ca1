import Foundation

/// Runs the real `prerender` executable (and other programs) the way a person or CI would.
public enum CommandRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var output: String { stdout + stderr }
    }

    /// The `prerender` built next to the test bundle (`swift build --build-tests` builds both).
    public static var prerenderPath: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("prerender").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/prerender").path
    }

    /// The Python that has RQ (`make test` makes a virtual environment for it), for `rq info` and friends.
    public static var python: String {
        ProcessInfo.processInfo.environment["PRERENDER_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// Runs RQ's command line (`rq info --url ...`).
    public static func rq(_ arguments: [String], timeout: Double = 30) throws -> Result {
        try run("/usr/bin/env", [python, "-m", "rq.cli"] + arguments, timeout: timeout)
    }

    /// Runs `prerender` with arguments in a folder, with extra environment variables (and some removed).
    public static func prerender(_ arguments: [String], in directory: String, environment: [String: String] = [:],
                                 timeout: Double = 120) throws -> Result {
        try run(prerenderPath, arguments, in: directory, environment: environment, timeout: timeout)
    }

    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                           environment: [String: String] = [:], timeout: Double = 120) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = testEnvironment(environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            collected.setErr(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        timer.cancel()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: collected.err, as: UTF8.self))
    }

    /// Starts a program and returns at once; the caller waits or stops it.
    public static func start(_ executable: String, _ arguments: [String], in directory: String? = nil,
                             environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = testEnvironment(environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// This process's environment without the pipeline's own settings (they must not leak in from the
/// machine), plus the test's.
private func testEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for name in env.keys where name.hasPrefix("TTS_") || name.hasPrefix("MURF_") || name == "REDIS_URL" { env[name] = nil }
    for (name, value) in extra { env[name] = value }
    return env
}

private final class Collected: @unchecked Sendable {
    // Written once by the reader thread before the group is left; read after the wait.
    var err = Data()
    func setErr(_ data: Data) { err = data }
}
