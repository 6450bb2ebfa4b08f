#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time on the monotonic clock by which an operation must finish.
///
/// Deadlines are absolute so that one budget can be handed down through several calls
/// (wire call → pool checkout → PostgreSQL query) without each layer re-adding its own
/// timeout. They use `CLOCK_MONOTONIC`, so wall-clock jumps (NTP, manual changes) never
/// make a call expire early or late.
public struct Deadline: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`) at which the deadline expires.
    public let uptimeNanoseconds: UInt64

    /// Creates a deadline at an absolute monotonic-clock instant.
    public init(uptimeNanoseconds: UInt64) {
        self.uptimeNanoseconds = uptimeNanoseconds
    }

    /// The current instant; already expired by definition.
    public static func now() -> Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(uptimeNanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// A deadline `micros` microseconds from now; negative values mean "now".
    public static func after(micros: Int64) -> Deadline {
        now().adding(nanoseconds: UInt64(max(0, micros)).multipliedReportingOverflow(by: 1000))
    }

    /// A deadline `milliseconds` milliseconds from now; negative values mean "now".
    public static func after(milliseconds: Int64) -> Deadline {
        now().adding(nanoseconds: UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000))
    }

    /// A deadline `seconds` seconds from now; negative values mean "now".
    public static func after(seconds: Int64) -> Deadline {
        now().adding(nanoseconds: UInt64(max(0, seconds)).multipliedReportingOverflow(by: 1_000_000_000))
    }

    /// A deadline `duration` from now; negative durations mean "now".
    public static func after(_ duration: Duration) -> Deadline {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return now() }
        let nanos = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let total = nanos.overflow
            ? nanos
            : nanos.partialValue.addingReportingOverflow(UInt64(max(0, attoseconds / 1_000_000_000)))
        return now().adding(nanoseconds: total)
    }

    /// A deadline that never expires in practice (about 146 years of uptime).
    ///
    /// Half of `UInt64.max` leaves room so that adding to it never overflows.
    public static let distantFuture = Deadline(uptimeNanoseconds: .max / 2)

    /// Whether the deadline has passed.
    public var isExpired: Bool { Deadline.now() >= self }

    /// Time left until expiry; zero once expired.
    public var remaining: Duration {
        .nanoseconds(Int64(clamping: remainingNanoseconds))
    }

    /// Whole microseconds left until expiry; zero once expired.
    public var remainingMicros: Int64 { Int64(clamping: remainingNanoseconds / 1000) }

    /// Milliseconds left, rounded up so that a `poll()` given this value never wakes before
    /// the deadline; clamped to `Int32.max` (about 24 days) for the C APIs that take `int`.
    public var remainingMillisecondsRoundedUp: Int32 {
        let nanos = remainingNanoseconds
        return Int32(clamping: (nanos / 1_000_000) + (nanos % 1_000_000 == 0 ? 0 : 1))
    }

    /// The earlier of two deadlines.
    public func earlier(than other: Deadline) -> Deadline { min(self, other) }

    public var description: String {
        self == .distantFuture ? "Deadline(distantFuture)" : "Deadline(in \(remainingMicros) µs)"
    }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool {
        lhs.uptimeNanoseconds < rhs.uptimeNanoseconds
    }

    private var remainingNanoseconds: UInt64 {
        let now = Deadline.now().uptimeNanoseconds
        return uptimeNanoseconds > now ? uptimeNanoseconds - now : 0
    }

    /// Saturates at `distantFuture` so that huge timeouts stay meaningful and never wrap.
    private func adding(nanoseconds: (partialValue: UInt64, overflow: Bool)) -> Deadline {
        guard !nanoseconds.overflow else { return .distantFuture }
        let sum = uptimeNanoseconds.addingReportingOverflow(nanoseconds.partialValue)
        guard !sum.overflow, sum.partialValue < Deadline.distantFuture.uptimeNanoseconds else {
            return .distantFuture
        }
        return Deadline(uptimeNanoseconds: sum.partialValue)
    }
}
