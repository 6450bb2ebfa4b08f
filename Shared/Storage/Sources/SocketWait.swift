#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What waiting on a socket ended with.
enum SocketWaitOutcome: Equatable {
    case ready
    case timedOut
    /// `poll()` itself failed; carries `errno`.
    case failed(Int32)
}

/// Waits until `fd` is ready for `events` (`POLLIN`/`POLLOUT`) or `deadline` passes.
///
/// Retries `EINTR` with the time still left, so a signal never shortens or lengthens the wait.
/// A hang-up or error on the socket counts as ready: the caller's next read reports it properly.
func waitForSocket(_ fd: Int32, events: Int16, deadline: Deadline) -> SocketWaitOutcome {
    while true {
        let timeout: Int32
        if deadline == .distantFuture {
            timeout = -1
        } else {
            timeout = deadline.remainingMillisecondsRoundedUp
            if timeout == 0 { return .timedOut }
        }
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let result = poll(&descriptor, 1, timeout)
        if result > 0 { return .ready }
        if result == 0 {
            // poll() rounds to whole milliseconds; loop until the deadline has really passed.
            if deadline.isExpired { return .timedOut }
            continue
        }
        let error = errno
        if error == EINTR { continue }
        return .failed(error)
    }
}

/// Whether `fd` has something to read right now (data, EOF or an error), without blocking.
///
/// An idle connection that is readable was closed by the server or received something it did
/// not ask for; either way it cannot be trusted for the next request.
func socketIsReadableNow(_ fd: Int32) -> Bool {
    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let result = poll(&descriptor, 1, 0)
        if result >= 0 { return result > 0 }
        if errno != EINTR { return true }
    }
}

/// The text of an `errno` value, for error messages.
func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}
