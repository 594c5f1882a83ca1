import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into calls of `onSignal` with how many have arrived so far (1: stop
/// gracefully, 2 and more: stop at once), on a dispatch queue rather than in a signal handler.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(_ onSignal: @escaping @Sendable (Int) -> Void) {
        let count = SignalCount()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { onSignal(count.increment()) }
            source.resume()
            return source
        }
    }

    func release() {
        for source in sources { source.cancel() }
    }
}

private final class SignalCount: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
