/// A refused gate setting: which variable, what kind of problem, and a
/// message that says what is accepted.
///
/// Start-up turns it into one clear line and stops; the runtime flag store
/// keeps the last good configuration and reports it.
public struct GateConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. Extensible: new codes are new static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs and tests, e.g. `invalid_value`.
        public let name: String

        private init(_ name: String) { self.name = name }

        /// The value cannot be parsed or is out of range.
        public static let invalidValue = Code("invalid_value")
        /// A value the chosen mode requires is absent or empty.
        public static let missingValue = Code("missing_value")
        /// Two settings contradict each other.
        public static let conflict = Code("conflict")

        public var description: String { name }
    }

    /// What kind of refusal this is.
    public var code: Code
    /// The environment variable (or flag) name at fault, e.g. `PHASE9_ROLLOUT_PERCENTAGE`.
    public var variable: String
    /// What is wrong and what is accepted, without the variable name.
    public var message: String

    /// Creates an error naming `variable`.
    public init(_ code: Code, variable: String, _ message: String) {
        self.code = code
        self.variable = variable
        self.message = message
    }

    /// `<variable>: <message>`.
    public var description: String { "\(variable): \(message)" }
}
