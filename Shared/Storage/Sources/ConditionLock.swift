#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with one condition variable whose timed waits use the monotonic clock.
///
/// `Synchronization.Mutex` has no condition variable and `NSCondition` waits on wall-clock
/// dates, which an NTP step can stretch or cut short; pool waits must honour `Deadline`s.
/// The pthread objects live in heap memory that never moves, as pthreads requires.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked Sendable: all access to the pthread objects goes through pthread calls,
    // which are thread-safe by definition; the pointers themselves never change.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal; must be called holding the mutex (inside `withLock`).
    ///
    /// Returns `false` once `deadline` has passed. Spurious wake-ups return `true`, so callers
    /// re-check their predicate in a loop.
    public func wait(until deadline: Deadline) -> Bool {
        if deadline == .distantFuture {
            pthread_cond_wait(condition, mutex)
            return true
        }
        if deadline.isExpired { return false }
        var until = timespec(
            tv_sec: Int(deadline.uptimeNanoseconds / 1_000_000_000),
            tv_nsec: Int(deadline.uptimeNanoseconds % 1_000_000_000)
        )
        let result = pthread_cond_timedwait(condition, mutex, &until)
        return result != ETIMEDOUT
    }

    /// Wakes one waiter.
    public func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Takes the mutex; pair with `unlock()` (prefer `withLock`).
    public func lock() { pthread_mutex_lock(mutex) }

    /// Releases the mutex taken by `lock()`.
    public func unlock() { pthread_mutex_unlock(mutex) }
}
