public import Foundation
public import Logging
public import Storage

/// Why an integration test cannot reach its infrastructure.
public struct TestInfrastructureError: Error, CustomStringConvertible {
    /// The environment variable or step concerned.
    public let subject: String
    /// What is wrong and how to fix it.
    public let message: String

    public var description: String { "\(subject): \(message)" }
}

/// Access to the PostgreSQL and Redis servers integration tests run against.
///
/// The servers come from `deploy/local/test`, which exports `DATABASE_URL` (an admin URL,
/// allowed to create databases) and `REDIS_URL`. A missing variable fails the test with a
/// message saying so: integration tests never skip silently.
public enum TestInfrastructure {
    /// The admin PostgreSQL URL from `DATABASE_URL`.
    public static func databaseURL() throws -> String {
        try environment("DATABASE_URL", server: "PostgreSQL")
    }

    /// The Redis URL from `REDIS_URL`.
    public static func redisURL() throws -> String {
        try environment("REDIS_URL", server: "Redis")
    }

    /// A Redis configuration for `REDIS_URL` with short timeouts suited to tests.
    public static func redisConfiguration() throws -> RedisConnection.Configuration {
        try RedisConnection.Configuration(url: try redisURL(), connectTimeout: .seconds(2), commandTimeout: .seconds(2))
    }

    /// Creates an empty database with a unique name and returns its URL, so that each test
    /// suite gets its own schema state. Drop it with `dropDatabase(_:)`, or use `withFreshDatabase`.
    public static func freshDatabase() throws -> String {
        let adminURL = try databaseURL()
        let name = uniqueID("test").replacingOccurrences(of: "-", with: "_")
        let admin = try PostgresConnection.connect(url: adminURL, timeout: .seconds(5), applicationName: "test-support")
        // Utility statements take no parameters; the name is generated here, never from input.
        try admin.simpleQuery("CREATE DATABASE \(name)", deadline: .after(seconds: 30))
        return try url(adminURL, replacingDatabaseWith: name)
    }

    /// Drops a database made by `freshDatabase()`, disconnecting whoever still uses it.
    public static func dropDatabase(_ url: String) throws {
        guard let components = URLComponents(string: url) else {
            throw TestInfrastructureError(subject: "dropDatabase", message: "\"\(url)\" is not a URL")
        }
        let name = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard name.hasPrefix("test_"), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw TestInfrastructureError(subject: "dropDatabase", message: "refusing to drop \"\(name)\": not made by freshDatabase()")
        }
        let admin = try PostgresConnection.connect(url: try databaseURL(), timeout: .seconds(5), applicationName: "test-support")
        try admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", deadline: .after(seconds: 30))
    }

    /// Runs `body` with the URL of a fresh database and drops it afterwards, also on failure.
    public static func withFreshDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let url = try freshDatabase()
        defer { try? dropDatabase(url) }
        return try body(url)
    }

    /// A unique identifier such as `test-1a2b3c4d5e6f7a8b`, for database names and Redis key
    /// prefixes, so that concurrent test runs never see each other's data.
    public static func uniqueID(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
    }

    /// A new temporary directory holding `files` (name → contents), e.g. migration fixtures.
    /// Remove it with `FileManager.default.removeItem(at:)` when done.
    public static func temporaryDirectory(containing files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueID("fixture"), isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, contents) in files {
            try Data(contents.utf8).write(to: directory.appendingPathComponent(name))
        }
        return directory
    }

    /// A logger for code under test; quiet unless `TEST_LOG_LEVEL` is set (e.g. `debug`).
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    private static func environment(_ name: String, server: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestInfrastructureError(
                subject: name,
                message: "\(name) is not set: this integration test needs \(server) started by deploy/local/test "
                    + "(run the tests through deploy/local/test, or export \(name) yourself)"
            )
        }
        return value
    }

    /// `url` (a postgresql:// URL) with its database name replaced by `name`.
    public static func url(_ url: String, replacingDatabaseWith name: String) throws -> String {
        guard var components = URLComponents(string: url), components.scheme?.hasPrefix("postgres") == true else {
            throw TestInfrastructureError(
                subject: "DATABASE_URL",
                message: "\"\(url)\" must be a postgresql:// URL so that a test database can be put in its place"
            )
        }
        components.path = "/\(name)"
        guard let result = components.string else {
            throw TestInfrastructureError(subject: "DATABASE_URL", message: "cannot rebuild the URL with database \(name)")
        }
        return result
    }
}
