/// A circuit breaker for the Redis path: a pure state machine, driven by
/// the caller's clock readings.
///
/// - **closed**: calls go through. It opens after
///   ``Configuration/consecutiveFailures`` failures in a row, or when at
///   least ``Configuration/failureRatePercent`` percent of the last
///   ``Configuration/window`` calls failed (judged only once the window is full).
/// - **open**: calls are refused (the service answers from PostgreSQL) until
///   ``Configuration/openDuration`` has passed.
/// - **halfOpen**: one probe call goes through; its success closes the
///   breaker, its failure opens it again for another ``Configuration/openDuration``.
///   A probe that never reports (its task was cancelled) is replaced by a
///   new one after another ``Configuration/openDuration``.
///
/// Outcomes reported while open are ignored: they belong to calls started
/// before the breaker opened and say nothing about Redis now.
///
/// ## Thread safety
/// A value type with no locking of its own: the service keeps one per Redis
/// endpoint in a `Mutex<CircuitBreaker>` (module Synchronization) and calls
/// ``acquire(at:)`` and ``record(success:at:)`` inside `withLock`. Each call
/// is a few comparisons and never allocates, so the lock is held for
/// nanoseconds, and tests drive the machine with literal instants.
public struct CircuitBreaker: Sendable {
    /// The thresholds.
    public struct Configuration: Sendable, Hashable {
        /// Failures in a row that open the breaker (at least 1).
        public var consecutiveFailures: Int
        /// The number of recent calls the failure rate looks at (1 to 64).
        public var window: Int
        /// The failure share, in percent of ``window``, that opens the breaker
        /// (1 to 100).
        public var failureRatePercent: Int
        /// How long the breaker stays open before it lets a probe through.
        public var openDuration: Duration

        /// 5 failures in a row, or half of the last 20 calls; 1 s open.
        /// One second keeps the Redis fast path coming back quickly after a
        /// restart while sparing a dead Redis most connect attempts.
        public static let `default` = Configuration(
            consecutiveFailures: 5, window: 20, failureRatePercent: 50, openDuration: .seconds(1))

        /// Creates thresholds, clamping each to its documented range.
        public init(consecutiveFailures: Int, window: Int, failureRatePercent: Int, openDuration: Duration) {
            self.consecutiveFailures = max(1, consecutiveFailures)
            self.window = min(64, max(1, window))
            self.failureRatePercent = min(100, max(1, failureRatePercent))
            self.openDuration = max(.zero, openDuration)
        }
    }

    /// Where the machine is.
    public enum State: Sendable, Hashable {
        /// Calls go through.
        case closed
        /// Calls are refused until the instant.
        case open(until: ContinuousClock.Instant)
        /// One probe may go through (or is under way since the instant).
        case halfOpen(probeSince: ContinuousClock.Instant?)
    }

    /// What ``acquire(at:)`` allows.
    public enum Permission: Sendable, Hashable {
        /// An ordinary call while closed.
        case call
        /// The one probe of a half-open breaker.
        case probe
        /// Refused: take the fallback path.
        case rejected
    }

    /// A change of state, returned so the service can log and count it.
    public enum Transition: Sendable, Hashable {
        /// closed or half-open → open.
        case opened
        /// open → half-open: a probe is let through.
        case halfOpened
        /// half-open → closed.
        case closed
    }

    /// The thresholds in use.
    public let configuration: Configuration
    /// The current state.
    public private(set) var state: State = .closed

    private var consecutiveFailureCount = 0
    // The last `window` outcomes as bits, newest in bit 0; 1 = failure.
    private var outcomes: UInt64 = 0
    private var outcomeCount = 0

    /// Creates a closed breaker.
    public init(configuration: Configuration = .default) {
        self.configuration = configuration
    }

    /// Asks whether a call may go to Redis now.
    ///
    /// - Returns: the permission, and the transition it caused (open →
    ///   half-open when the open duration has passed).
    public mutating func acquire(at now: ContinuousClock.Instant) -> (permission: Permission, transition: Transition?) {
        switch state {
        case .closed:
            return (.call, nil)
        case .open(let until):
            guard now >= until else { return (.rejected, nil) }
            state = .halfOpen(probeSince: now)
            return (.probe, .halfOpened)
        case .halfOpen(let probeSince):
            if let probeSince, now - probeSince < configuration.openDuration {
                return (.rejected, nil)
            }
            // No probe under way, or the last one never reported: send one.
            state = .halfOpen(probeSince: now)
            return (.probe, nil)
        }
    }

    /// Reports a call's outcome (a timeout counts as a failure).
    ///
    /// - Returns: the transition it caused, if any.
    @discardableResult
    public mutating func record(success: Bool, at now: ContinuousClock.Instant) -> Transition? {
        switch state {
        case .open:
            return nil
        case .halfOpen:
            if success {
                reset()
                state = .closed
                return .closed
            }
            state = .open(until: now + configuration.openDuration)
            return .opened
        case .closed:
            push(failure: !success)
            consecutiveFailureCount = success ? 0 : consecutiveFailureCount + 1
            guard !success, consecutiveFailureCount >= configuration.consecutiveFailures || failureRateExceeded else {
                return nil
            }
            reset()
            state = .open(until: now + configuration.openDuration)
            return .opened
        }
    }

    /// True when the breaker refuses ordinary calls (open or half-open):
    /// the gauge a dashboard shows.
    public var isOpen: Bool { state != .closed }

    private var failureRateExceeded: Bool {
        guard outcomeCount >= configuration.window else { return false }
        let mask: UInt64 = configuration.window == 64 ? ~0 : (1 << UInt64(configuration.window)) - 1
        let failures = (outcomes & mask).nonzeroBitCount
        return failures * 100 >= configuration.failureRatePercent * configuration.window
    }

    private mutating func push(failure: Bool) {
        outcomes = (outcomes << 1) | (failure ? 1 : 0)
        outcomeCount = min(outcomeCount + 1, 64)
    }

    private mutating func reset() {
        consecutiveFailureCount = 0
        outcomes = 0
        outcomeCount = 0
    }
}
