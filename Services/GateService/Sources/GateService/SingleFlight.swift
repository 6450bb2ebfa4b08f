import Foundation
import Storage
import Synchronization

/// Collapses concurrent PostgreSQL reads of one cold key into one.
///
/// The first caller that misses a key leads: it reads PostgreSQL and fills
/// the cache. Callers that miss the same key while the leader is under way
/// wait for it (bounded by their own deadline) and then read Redis again,
/// where the leader's fill, or a newer entry the inbox wrote, now is.
///
/// Followers never reuse the leader's PostgreSQL answer itself: that read may
/// have been taken before the follower's call began, and handing it on would
/// let a check that started after a revoke was acknowledged see the state
/// from before it. Re-reading Redis is linearizable with the inbox's
/// write-through, and costs a GET instead of a query. A follower whose
/// second read misses (the fill was dropped or refused) reads PostgreSQL itself.
final class SingleFlight: Sendable {
    /// One read under way; followers wait on its condition.
    final class Flight: @unchecked Sendable {
        // @unchecked: `finished` is only touched with `condition` locked.
        private let condition = NSCondition()
        private var finished = false

        /// Waits until the leader finishes or the deadline passes.
        func wait(until deadline: Deadline) {
            let wallDeadline = Date(timeIntervalSinceNow: Double(deadline.remainingMicros) / 1e6)
            condition.lock()
            defer { condition.unlock() }
            while !finished {
                if !condition.wait(until: wallDeadline) { return }
            }
        }

        fileprivate func finish() {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let flights = Mutex<[String: Flight]>([:])

    /// Splits `keys` (distinct) into those the caller now leads (it must
    /// call ``finish(_:)`` for them, also on failure) and the flights it
    /// should wait for.
    func claim(_ keys: [String]) -> (leading: [String], following: [String: Flight]) {
        flights.withLock { flights in
            var leading: [String] = []
            var following: [String: Flight] = [:]
            for key in keys {
                if let flight = flights[key] {
                    following[key] = flight
                } else {
                    flights[key] = Flight()
                    leading.append(key)
                }
            }
            return (leading, following)
        }
    }

    /// Ends the caller's flights and wakes their followers.
    func finish(_ keys: [String]) {
        let ended = flights.withLock { flights in keys.compactMap { flights.removeValue(forKey: $0) } }
        for flight in ended { flight.finish() }
    }
}
