// Temporary until Storage.Deadline lands; removed then.
import Glibc

public struct Deadline: Sendable, Hashable, Comparable {
    public let uptimeNanoseconds: UInt64
    public init(uptimeNanoseconds: UInt64) { self.uptimeNanoseconds = uptimeNanoseconds }
    public static func now() -> Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(uptimeNanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }
    public static func after(micros: Int64) -> Deadline {
        Deadline(uptimeNanoseconds: now().uptimeNanoseconds + UInt64(max(0, micros)) * 1000)
    }
    public static let distantFuture = Deadline(uptimeNanoseconds: .max / 2)
    public var isExpired: Bool { Deadline.now() >= self }
    public var remainingMicros: Int64 {
        let now = Deadline.now().uptimeNanoseconds
        return uptimeNanoseconds > now ? Int64((uptimeNanoseconds - now) / 1000) : 0
    }
    public static func < (a: Deadline, b: Deadline) -> Bool { a.uptimeNanoseconds < b.uptimeNanoseconds }
}
