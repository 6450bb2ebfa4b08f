import Foundation
public import Logging
public import Storage
import Wire

/// The stores a service talks to, opened from its settings.
public struct ServiceStores: Sendable {
    public let postgres: PostgresPool
    public let redis: RedisPool?

    /// Opens the pools lazily (no connection is made until first use).
    public init(settings: ServiceSettings, postgresSettings: [String: String] = [:], logger: Logger) throws {
        postgres = PostgresPool(
            configuration: .init(
                url: settings.databaseURL, size: settings.databasePoolSize, applicationName: "\(settings.name)-service",
                settings: postgresSettings
            ),
            logger: logger
        )
        if let url = settings.redisURL {
            let configuration = try RedisConnection.Configuration(url: url, connectTimeout: .milliseconds(500), commandTimeout: .milliseconds(250))
            redis = RedisPool(configuration: configuration, size: settings.redisPoolSize, logger: logger)
        } else {
            redis = nil
        }
    }

    /// Readiness probes for both stores. `critical` says whether an outage
    /// makes the instance unready (see `ReadinessMonitor.Probe.critical`).
    public func probes(postgresCritical: Bool, redisCritical: Bool) -> [ReadinessMonitor.Probe] {
        let postgres = self.postgres
        var probes = [ReadinessMonitor.Probe(name: "postgresql", critical: postgresCritical) {
            postgres.isReachable(timeout: .milliseconds(500)) ? nil : "PostgreSQL unreachable"
        }]
        if let redis {
            probes.append(ReadinessMonitor.Probe(name: "redis", critical: redisCritical) {
                redis.isReachable(timeout: .milliseconds(500)) ? nil : "Redis unreachable"
            })
        }
        return probes
    }

    public func close() {
        postgres.close()
        redis?.close()
    }
}

/// What a service binary's `main` calls: `<binary> migrate ...` runs
/// migrations, no argument serves. Configuration problems stop the process
/// with one clear line on stderr and exit status 78 (EX_CONFIG).
public enum ServiceLauncher {
    public struct Description: Sendable {
        /// "gate", "inbox" or "policy".
        public var name: String
        public var defaultWirePort: Int
        public var defaultAdminPort: Int
        public var needsRedis: Bool
        /// Shared schemas the service needs, applied first by `migrate up` (never reverted by it).
        public var sharedMigrations: [MigrationComponent]
        /// The schema the service owns: applied last by `migrate up`, the only one `migrate down` reverts.
        /// Nil for a service that owns no tables (the gate), whose `migrate down` is refused.
        public var ownMigrations: MigrationComponent?
        /// PostgreSQL settings for every pooled session of the service.
        public var postgresSettings: [String: String] = [:]
        /// The default of `WIRE_LONE_CALLS_INLINE` (see
        /// `WireServerConfiguration.runsLoneCallsInline`): on for a service
        /// whose handlers are all short.
        public var shortHandlers = false

        public init(
            name: String, defaultWirePort: Int, defaultAdminPort: Int, needsRedis: Bool,
            sharedMigrations: [MigrationComponent], ownMigrations: MigrationComponent?
        ) {
            self.name = name
            self.defaultWirePort = defaultWirePort
            self.defaultAdminPort = defaultAdminPort
            self.needsRedis = needsRedis
            self.sharedMigrations = sharedMigrations
            self.ownMigrations = ownMigrations
        }
    }

    /// Builds the service's parts from settings; called once at start.
    public typealias Builder = @Sendable (ServiceSettings, EnvironmentReader, ServiceStores, Logger) throws -> ServiceHost.Parts

    public static func main(_ description: Description, build: Builder) async -> Never {
        ProcessTuning.limitMallocArenas(to: 2)
        ProcessTuning.fixMallocMmapThreshold(bytes: 1 << 20)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let environment = EnvironmentReader()
        do {
            if arguments.first == "migrate" {
                guard let url = environment.string("DATABASE_URL") else {
                    throw ConfigurationError(variable: "DATABASE_URL", problem: "is required")
                }
                var logger = Logger(label: "\(description.name)-service.migrate")
                logger.logLevel = .notice
                try MigrationCommand.run(
                    arguments: Array(arguments.dropFirst()), shared: description.sharedMigrations,
                    own: description.ownMigrations, service: "\(description.name)-service", databaseURL: url,
                    backupDirectory: environment.string("BACKUP_DIR") ?? ".run/backups", logger: logger
                )
                exit(0)
            }
            guard arguments.isEmpty else {
                throw ConfigurationError(variable: "arguments", problem: "unknown \(arguments.joined(separator: " ")); usage: \(description.name)-service [migrate up | migrate down --to N | migrate status]")
            }
            let settings = try ServiceSettings.fromEnvironment(
                environment, name: description.name, defaultWirePort: description.defaultWirePort,
                defaultAdminPort: description.defaultAdminPort, needsRedis: description.needsRedis,
                loneCallsInlineByDefault: description.shortHandlers
            )
            Observability.bootstrap(service: "\(description.name)-service", logLevel: settings.logLevel)
            var logger = Logger(label: "\(description.name)-service")
            logger.logLevel = settings.logLevel
            let stores = try ServiceStores(settings: settings, postgresSettings: description.postgresSettings, logger: logger)
            let parts = try build(settings, environment, stores, logger)
            try await ServiceHost.run(settings: settings, logger: logger, parts: parts)
            stores.close()
            exit(0)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(description.name)-service: configuration error: \(error)\n".utf8))
            exit(78)
        } catch {
            FileHandle.standardError.write(Data("\(description.name)-service: \(error)\n".utf8))
            exit(1)
        }
    }
}
