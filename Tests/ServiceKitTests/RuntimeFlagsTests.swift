import Catalog
import Foundation
import Logging
import ServiceKit
import Storage
import TestSupport
import Testing
import Wire

@Suite struct RuntimeFlagsTests {
    static let definitions: [FlagDefinition] = [
        .bool("ENABLE_SELLER_AUTHORIZATION", "kill switch"),
        .int("PHASE9_ROLLOUT_PERCENTAGE", "rollout percentage", in: 0...100),
        .int("SELLER_PRODUCT_LIMIT", "approved products per seller", in: 0...10_000),
    ]

    /// A migrated fresh database with the ops schema.
    static func database() throws -> String {
        let url = try TestInfrastructure.freshDatabase()
        let connection = try PostgresConnection.connect(url: url)
        try Migrator(component: "ops", directory: MigrationComponent.runtimeFlags.directory, logger: TestInfrastructure.logger("migrate"))
            .migrateUp(on: connection)
        return url
    }

    static func flags(url: String, environment: [String: String] = [:]) throws -> RuntimeFlags {
        let pool = PostgresPool(configuration: .init(url: url, size: 2), logger: TestInfrastructure.logger("flags"))
        return try RuntimeFlags(
            service: "gate", definitions: definitions, environment: EnvironmentReader(environment),
            defaults: ["ENABLE_SELLER_AUTHORIZATION": "false", "PHASE9_ROLLOUT_PERCENTAGE": "0", "SELLER_PRODUCT_LIMIT": "10"],
            pool: pool, logger: TestInfrastructure.logger("flags"), refreshInterval: .milliseconds(200)
        )
    }

    @Test func environmentValuesApplyAtStart() throws {
        let url = try Self.database()
        let flags = try Self.flags(url: url, environment: ["PHASE9_ROLLOUT_PERCENTAGE": "25"])
        #expect(flags.current["PHASE9_ROLLOUT_PERCENTAGE"] == "25")
        #expect(flags.current["SELLER_PRODUCT_LIMIT"] == "10")
    }

    @Test func aBadEnvironmentValueStopsStartUpNamingTheVariable() throws {
        let url = try Self.database()
        let error = #expect(throws: ConfigurationError.self) {
            try Self.flags(url: url, environment: ["PHASE9_ROLLOUT_PERCENTAGE": "140"])
        }
        #expect(error?.variable == "PHASE9_ROLLOUT_PERCENTAGE")
    }

    @Test func aChangeReachesAnotherInstanceWithinTwoSeconds() throws {
        let url = try Self.database()
        let writer = try Self.flags(url: url)
        let reader = try Self.flags(url: url)
        reader.startPolling()
        defer { reader.stopPolling() }
        let started = ContinuousClock.now
        _ = try writer.set(name: "PHASE9_ROLLOUT_PERCENTAGE", value: "40", reason: "wave 2", actor: "alice", caller: "operator", deadline: .after(seconds: 2))
        while reader.current["PHASE9_ROLLOUT_PERCENTAGE"] != "40" && ContinuousClock.now - started < .seconds(3) {
            usleep(20_000)
        }
        let elapsed = ContinuousClock.now - started
        #expect(reader.current["PHASE9_ROLLOUT_PERCENTAGE"] == "40")
        #expect(elapsed < .seconds(2), "propagation took \(elapsed)")
        let listed = reader.list().flags.first { $0.name == "PHASE9_ROLLOUT_PERCENTAGE" }
        #expect(listed?.source == "database")
        #expect(listed?.updatedBy == "alice")
    }

    @Test func everyChangeLeavesAnAuditRow() throws {
        let url = try Self.database()
        let flags = try Self.flags(url: url)
        _ = try flags.set(name: "SELLER_PRODUCT_LIMIT", value: "12", reason: "bigger sellers", actor: "bob", caller: "operator", deadline: .after(seconds: 2))
        _ = try flags.set(name: "SELLER_PRODUCT_LIMIT", value: "11", reason: "too many", actor: "bob", caller: "operator", deadline: .after(seconds: 2))
        let connection = try PostgresConnection.connect(url: url)
        let rows = try connection.query("SELECT old_value, new_value, actor, reason FROM ops.runtime_flag_audit WHERE name = 'SELLER_PRODUCT_LIMIT' ORDER BY id")
        #expect(try rows.map { [try $0.string(0), try $0.string(1), try $0.string(2), try $0.string(3)] } == [
            ["10", "12", "bob", "bigger sellers"], ["12", "11", "bob", "too many"],
        ])
    }

    @Test func badValuesAreInvalidArgument() throws {
        let url = try Self.database()
        let flags = try Self.flags(url: url)
        for (name, value) in [("PHASE9_ROLLOUT_PERCENTAGE", "140"), ("SELLER_PRODUCT_LIMIT", "-1"), ("ENABLE_SELLER_AUTHORIZATION", "maybe")] {
            let error = #expect(throws: RPCError.self) {
                try flags.set(name: name, value: value, reason: "test", actor: "a", caller: "operator", deadline: .after(seconds: 2))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(name) == true)
        }
        let missingReason = #expect(throws: RPCError.self) {
            try flags.set(name: "SELLER_PRODUCT_LIMIT", value: "3", reason: " ", actor: "a", caller: "operator", deadline: .after(seconds: 2))
        }
        #expect(missingReason?.code == .invalidArgument)
        let unknown = #expect(throws: RPCError.self) {
            try flags.set(name: "NO_SUCH_FLAG", value: "1", reason: "x", actor: "a", caller: "operator", deadline: .after(seconds: 2))
        }
        #expect(unknown?.code == .notFound)
    }

    @Test func anUnreachableStoreKeepsLastKnownGoodValuesAndSaysSo() throws {
        let url = try Self.database()
        let proxy = try TCPProxy(targetPort: URLComponents(string: url)!.port!)
        let writer = try Self.flags(url: url)
        let instance = try Self.flags(url: proxy.url(replacingPortOf: url))
        _ = try writer.set(name: "PHASE9_ROLLOUT_PERCENTAGE", value: "10", reason: "wave 1", actor: "a", caller: "operator", deadline: .after(seconds: 2))
        #expect(instance.refresh())
        #expect(instance.current["PHASE9_ROLLOUT_PERCENTAGE"] == "10")
        proxy.cut()
        #expect(!instance.refresh(deadline: .after(milliseconds: 500)))
        #expect(instance.isStale)
        #expect(instance.current["PHASE9_ROLLOUT_PERCENTAGE"] == "10")
        #expect(instance.list().stale)
        proxy.restore()
        #expect(instance.refresh())
        #expect(!instance.isStale)
    }
}
