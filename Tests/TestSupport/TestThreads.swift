import Foundation

/// Runs blocking work on several real threads at once, as the services' worker threads do.
///
/// Swift's cooperative pool must not block, and GCD caps `concurrentPerform` at the core
/// count; contention tests need more threads than cores, so each body gets its own `Thread`.
public enum TestThreads {
    /// Runs `body(index)` for `0..<count` on `count` new threads and waits for all of them.
    public static func run(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }
}
