import ArgumentParser

/// A failure of the command itself (bad input file, missing credential,
/// unreadable file) as opposed to an error status from a service (`RPCError`).
///
/// Printed as `error: <field>: <message>` on stderr with exit status 1.
struct CLIError: Error, Sendable, CustomStringConvertible {
    /// The option, file or setting at fault, e.g. `--order-time` or `items[3].currency`.
    var field: String?
    var message: String

    init(field: String? = nil, _ message: String) {
        self.field = field
        self.message = message
    }

    var description: String {
        field.map { "\($0): \(message)" } ?? message
    }
}

/// Runs a parse step from `validate()`, so a bad value is a usage error
/// (exit status 2, with the usage line) rather than a failure of the call.
@discardableResult
func checkingUsage<T>(_ parse: () throws(CLIError) -> T) throws(ValidationError) -> T {
    do {
        return try parse()
    } catch {
        throw ValidationError(error.description)
    }
}
