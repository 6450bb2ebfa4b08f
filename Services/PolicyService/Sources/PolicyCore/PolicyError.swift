/// An error of the policy domain: a code that says which rule was broken, the
/// field at fault (named as in the `policy.v1` contract, e.g. `min_commission`)
/// and a message for humans that repeats the field.
///
/// Every error of this module is a caller mistake or a data problem that the
/// caller can act on, so the service maps them to `INVALID_ARGUMENT` (or
/// `FAILED_PRECONDITION` where ``Code`` says so).
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which rule was broken. A struct rather than an enum so that new codes
    /// do not break exhaustive switches in other modules.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingField = "missing_field"
            case invalidFormat = "invalid_format"
            case outOfRange = "out_of_range"
            case unknownCurrency = "unknown_currency"
            case currencyMismatch = "currency_mismatch"
            case invalidBounds = "invalid_bounds"
            case invalidWindow = "invalid_window"
            case overflow = "overflow"
            case kindMismatch = "kind_mismatch"
            case unknownPolicy = "unknown_policy"
            case overlappingWindows = "overlapping_windows"
            case duplicate = "duplicate"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A required field is empty or absent.
        public static let missingField = Code(.missingField)
        /// A field does not have the required shape (e.g. a policy code).
        public static let invalidFormat = Code(.invalidFormat)
        /// A number is outside its allowed range (zero or negative amounts,
        /// absurd amounts, a rate above 100 %).
        public static let outOfRange = Code(.outOfRange)
        /// A currency code is not an ISO 4217 code this module knows.
        public static let unknownCurrency = Code(.unknownCurrency)
        /// Two amounts that must share a currency do not.
        public static let currencyMismatch = Code(.currencyMismatch)
        /// A minimum commission above the maximum.
        public static let invalidBounds = Code(.invalidBounds)
        /// A validity window that ends at or before its start.
        public static let invalidWindow = Code(.invalidWindow)
        /// Arithmetic that would not fit in 64 bits; refused, never wrapped.
        public static let overflow = Code(.overflow)
        /// A link between a scope and a policy of another kind.
        public static let kindMismatch = Code(.kindMismatch)
        /// A link to a policy that is not part of the snapshot.
        public static let unknownPolicy = Code(.unknownPolicy)
        /// Two policies for the same scope (or two DEFAULT policies) valid at
        /// the same instant. The service maps it to `FAILED_PRECONDITION`.
        public static let overlappingWindows = Code(.overlappingWindows)
        /// The same id twice where ids must be unique (a policy snapshot).
        public static let duplicate = Code(.duplicate)

        /// The code as a stable snake_case token for logs and metrics.
        public var description: String { base.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// The contract field at fault, e.g. `line_amount`, `min_commission`.
    public let field: String
    /// A human-readable explanation; starts with the field name.
    public let message: String

    /// Creates an error; `detail` is prefixed with the field name so every
    /// message names the field, as the wire contract promises.
    public init(_ code: Code, field: String, _ detail: String) {
        self.code = code
        self.field = field
        self.message = "\(field): \(detail)"
    }

    public var description: String { "\(code): \(message)" }
}
