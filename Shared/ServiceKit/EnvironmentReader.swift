import Foundation

/// A configuration value is missing or malformed; the message names the
/// variable so start-up can stop with one clear line.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var variable: String
    public var problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable): \(problem)" }
}

/// Typed reads of environment variables, each refusing a malformed value with
/// an error that names the variable.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    /// Reads the process environment.
    public init() {
        self.values = ProcessInfo.processInfo.environment
    }

    /// Reads the given values (tests).
    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The trimmed value, or nil when unset or empty.
    public func string(_ name: String) -> String? {
        guard let raw = values[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        return raw
    }

    public func required(_ name: String) throws(ConfigurationError) -> String {
        guard let value = string(name) else { throw ConfigurationError(variable: name, problem: "is required") }
        return value
    }

    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = string(name) else { return fallback }
        return try Self.parseInt(raw, name: name, in: range)
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let raw = string(name) else { return fallback }
        return try Self.parseBool(raw, name: name)
    }

    /// Seconds, as a whole or decimal number ("20", "0.5").
    public func seconds(_ name: String, default fallback: Duration, in range: ClosedRange<Double> = 0...86_400) throws(ConfigurationError) -> Duration {
        guard let raw = string(name) else { return fallback }
        guard let value = Double(raw), range.contains(value) else {
            throw ConfigurationError(variable: name, problem: "must be a number of seconds in \(range), got \"\(raw)\"")
        }
        return .milliseconds(Int64(value * 1000))
    }

    public static func parseInt(_ raw: String, name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(variable: name, problem: "must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(raw)\"")
        }
        return value
    }

    public static func parseBool(_ raw: String, name: String) throws(ConfigurationError) -> Bool {
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(variable: name, problem: "must be true or false, got \"\(raw)\"")
        }
    }
}
