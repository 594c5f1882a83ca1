import Foundation
@testable import Pipeline
import Testing

/// The hand-over of audio from a build's own workers to its collector.
@Suite struct LocalResultsTests {
    let report = AudioReport(format: "wav", sampleRate: 22_050, channels: 1, frames: 22_050, durationMs: 1_000, peak: 0.5, clippedRatio: 0)

    func result(_ byte: UInt8) -> LocalResults.Result {
        LocalResults.Result(audio: [byte], sha256: "", report: report, attempts: 1, seconds: 0.1)
    }

    @Test func aWorkerWaitsWhileTheCollectorIsBehind() throws {
        let results = LocalResults(notifyList: "n", capacity: 1)
        results.put(result(1), id: "a", stopping: { false })
        let second = DispatchSemaphore(value: 0)
        Thread {
            results.put(result(2), id: "b", stopping: { false })
            second.signal()
        }.start()
        // The second result cannot go in while the first is uncollected.
        #expect(second.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(results.count == 1)
        #expect(results.take("a")?.audio == [1])
        #expect(second.wait(timeout: .now() + 5) == .success)
        #expect(results.take("b")?.audio == [2])
        #expect(results.take("b") == nil)
    }

    @Test func theCollectorHearsOfFinishedJobsInOrderAndOnce() {
        let results = LocalResults(notifyList: "n")
        let start = Date()
        #expect(results.waitForFinished(timeout: 0.1).isEmpty)
        #expect(Date().timeIntervalSince(start) >= 0.05)
        results.put(result(1), id: "a", stopping: { false })
        results.put(result(2), id: "b", stopping: { false })
        #expect(results.waitForFinished(timeout: 0).isEmpty)  // put, but not finished in Redis yet
        results.announce("b")
        results.announce("a")
        #expect(results.waitForFinished(timeout: 1) == ["b", "a"])
        #expect(results.waitForFinished(timeout: 0).isEmpty)
        // A waiting collector wakes as soon as a worker announces.
        Thread {
            Thread.sleep(forTimeInterval: 0.1)
            results.announce("c")
        }.start()
        #expect(results.waitForFinished(timeout: 10) == ["c"])
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func aStoppingWorkerDoesNotWait() {
        let results = LocalResults(notifyList: "n", capacity: 1)
        results.put(result(1), id: "a", stopping: { false })
        results.put(result(2), id: "b", stopping: { true })
        #expect(results.count == 2)
    }
}
