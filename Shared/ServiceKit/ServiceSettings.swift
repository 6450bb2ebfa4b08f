import Foundation
public import Logging
public import Wire

/// What every service binary reads at start: where to listen, where its
/// stores are, who may call it, and how to drain.
public struct ServiceSettings: Sendable {
    /// Short name used in logs and flag storage: "gate", "inbox", "policy".
    public var name: String
    public var wire: WireServerConfiguration
    public var adminHost: String
    public var adminPort: Int
    public var databaseURL: String
    public var redisURL: String?
    public var credentialsFile: String
    public var logLevel: Logger.Level
    /// Size of the PostgreSQL connection pool.
    public var databasePoolSize: Int
    /// Size of the Redis connection pool.
    public var redisPoolSize: Int

    /// Reads the common variables:
    /// `WIRE_HOST`, `WIRE_PORT`, `ADMIN_PORT`, `DATABASE_URL` (required), `REDIS_URL`
    /// (required when `needsRedis`), `WIRE_CREDENTIALS_FILE` (required), `LOG_LEVEL`,
    /// `DRAIN_TIMEOUT_SECONDS`, `WIRE_MAX_FRAME_BYTES`, `WIRE_MAX_CALL_TIMEOUT`,
    /// `WIRE_IDLE_TIMEOUT`, `WIRE_MAX_CONNECTION_AGE`, `WIRE_WORKER_THREADS`,
    /// `WIRE_LONE_CALLS_INLINE` (default `loneCallsInlineByDefault`),
    /// `DATABASE_POOL_SIZE`, `REDIS_POOL_SIZE`.
    public static func fromEnvironment(
        _ environment: EnvironmentReader = EnvironmentReader(),
        name: String, defaultWirePort: Int, defaultAdminPort: Int, needsRedis: Bool,
        loneCallsInlineByDefault: Bool = false
    ) throws(ConfigurationError) -> ServiceSettings {
        var wire = WireServerConfiguration(port: try environment.int("WIRE_PORT", default: defaultWirePort, in: 0...65535))
        wire.host = environment.string("WIRE_HOST") ?? "0.0.0.0"
        wire.maxFrameSize = try environment.int("WIRE_MAX_FRAME_BYTES", default: 4 * 1024 * 1024, in: 1024...(64 * 1024 * 1024))
        wire.maxCallTimeout = try environment.seconds("WIRE_MAX_CALL_TIMEOUT", default: .seconds(30), in: 0.01...600)
        wire.idleTimeout = try environment.seconds("WIRE_IDLE_TIMEOUT", default: .seconds(300), in: 1...86_400)
        wire.maxConnectionAge = try environment.seconds("WIRE_MAX_CONNECTION_AGE", default: .seconds(1800), in: 1...604_800)
        wire.drainTimeout = try environment.seconds("DRAIN_TIMEOUT_SECONDS", default: .seconds(20), in: 0...600)
        // Measured on 2 cores with 64 connections (deploy/local/bench): 32
        // workers served 12.6k calls/s, 8 served 20.1k, 4 served 29.0k — fewer
        // threads, fewer context switches — with the gate's Redis-bound checks
        // unchanged (13.8k/s at 4, 14.1k/s at 8). Never fewer than 4, so a few
        // slow calls cannot stall the rest.
        let defaultWorkers = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        wire.workerThreads = try environment.int("WIRE_WORKER_THREADS", default: defaultWorkers, in: 1...1024)
        wire.runsLoneCallsInline = try environment.bool("WIRE_LONE_CALLS_INLINE", default: loneCallsInlineByDefault)
        let levelName = environment.string("LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ConfigurationError(variable: "LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical; got \"\(levelName)\"")
        }
        let redisURL = environment.string("REDIS_URL")
        if needsRedis && redisURL == nil {
            throw ConfigurationError(variable: "REDIS_URL", problem: "is required (e.g. redis://127.0.0.1:6379)")
        }
        return ServiceSettings(
            name: name,
            wire: wire,
            adminHost: environment.string("ADMIN_HOST") ?? "0.0.0.0",
            adminPort: try environment.int("ADMIN_PORT", default: defaultAdminPort, in: 0...65535),
            databaseURL: try environment.required("DATABASE_URL"),
            redisURL: redisURL,
            credentialsFile: try environment.required("WIRE_CREDENTIALS_FILE"),
            logLevel: level,
            // One connection per worker thread by default, so a worker never
            // spends its deadline waiting for a pooled connection.
            databasePoolSize: try environment.int("DATABASE_POOL_SIZE", default: wire.workerThreads, in: 1...256),
            redisPoolSize: try environment.int("REDIS_POOL_SIZE", default: wire.workerThreads, in: 1...256)
        )
    }
}
