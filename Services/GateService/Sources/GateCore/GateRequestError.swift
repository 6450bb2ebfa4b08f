/// A per-call refusal of a malformed check: the wire status code plus a
/// message naming the field, e.g. `items[3].stage: required`.
public struct GateRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wire status code. Extensible: new codes are new static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The gRPC status number.
        public let rawValue: Int
        /// The gRPC status name.
        public let name: String

        private init(_ rawValue: Int, _ name: String) {
            self.rawValue = rawValue
            self.name = name
        }

        /// A field is missing, malformed or out of range (gRPC 3).
        public static let invalidArgument = Code(3, "INVALID_ARGUMENT")

        public var description: String { name }
    }

    /// The status code.
    public var code: Code
    /// The wire field at fault, with its path: `seller_id`, `items[3].stage`.
    public var field: String
    /// What is wrong, without the field name.
    public var message: String

    /// An `INVALID_ARGUMENT` naming `field`.
    public static func invalidArgument(field: String, _ message: String) -> GateRequestError {
        GateRequestError(code: .invalidArgument, field: field, message: message)
    }

    /// `<field>: <message>`, the wire status message.
    public var description: String { "\(field): \(message)" }
}
