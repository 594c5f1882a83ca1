import Foundation

/// Runs a program to completion and captures what it prints. Blocks the calling thread:
/// call it from a worker's own thread, never from Swift's cooperative pool.
public enum ChildProcess {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var timedOut: Bool

        var stderrText: String { String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The full path of a command found on PATH, or nil. A command with a slash is taken as a path.
    public static func find(_ command: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if command.contains("/") {
            return FileManager.default.isExecutableFile(atPath: command) ? command : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil, timeout: Double) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()

        if let input, let stdin {
            input.fileHandleForWriting.write(Data(stdin))
            try? input.fileHandleForWriting.close()
        }
        // Stop a child that overruns its time; the reads below then end at its exit.
        let timedOut = TimeoutFlag()
        let killer = DispatchWorkItem { [process] in
            if process.isRunning {
                timedOut.set()
                process.terminate()
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)

        // stderr is drained on another thread so that a chatty child cannot fill one pipe while we wait on the other.
        let errData = DataBox()
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            errDone.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        process.waitUntilExit()
        killer.cancel()
        return Result(status: process.terminationStatus, stdout: Array(outData), stderr: Array(errData.data), timedOut: timedOut.value)
    }
}

/// Written once by the stderr reader before it signals; read after the wait.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

private final class TimeoutFlag: Sendable {
    private let storage = Mutex(false)
    func set() { storage.withLock { $0 = true } }
    var value: Bool { storage.withLock { $0 } }
}

import Synchronization
