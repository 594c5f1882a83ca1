import Foundation

/// A value computed on a thread of its own (not Swift's cooperative pool) while the caller does other work.
final class Background<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once on the thread before `done.leave()` and read after `done.wait()`.
    private var result: Value?
    private let done = DispatchGroup()

    init(_ work: @escaping @Sendable () -> Value) {
        done.enter()
        Thread { [self] in
            result = work()
            done.leave()
        }.start()
    }

    /// Waits for the value.
    var value: Value {
        done.wait()
        return result!
    }
}
