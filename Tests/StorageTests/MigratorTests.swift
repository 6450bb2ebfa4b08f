import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

@Suite struct MigratorTests {
    private static let baseFiles = [
        "0001_sellers.up.sql": "CREATE SCHEMA shop; CREATE TABLE shop.sellers (id text PRIMARY KEY);",
        "0001_sellers.down.sql": "DROP TABLE shop.sellers; DROP SCHEMA shop;",
        "0002_products.up.sql": "CREATE TABLE shop.products (id text PRIMARY KEY, seller_id text REFERENCES shop.sellers);",
        "0002_products.down.sql": "DROP TABLE shop.products;",
        ".keep": "",
    ]

    private func withFixture<T>(
        _ files: [String: String] = baseFiles, _ body: (URL, String) throws -> T
    ) throws -> T {
        let directory = try TestInfrastructure.temporaryDirectory(containing: files)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try TestInfrastructure.withFreshDatabase { url in try body(directory, url) }
    }

    private func migrator(_ directory: URL, component: String = "shop") -> Migrator {
        Migrator(component: component, directory: directory, logger: TestInfrastructure.logger("migrator"))
    }

    private func tables(_ connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'shop' ORDER BY tablename").map { try $0.string(0) }
    }

    @Test func upAppliesEveryMigrationInOrderAndRecordsIt() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            let applied = try migrator(directory).migrateUp(on: connection)
            #expect(applied.map(\.version) == [1, 2])
            #expect(try tables(connection) == ["products", "sellers"])
            let history = try connection.query("SELECT version, name, length(checksum) AS digits FROM public.schema_migrations WHERE component = 'shop' ORDER BY version")
            #expect(try history.map { try $0.int32("version") } == [1, 2])
            #expect(try history.map { try $0.string("name") } == ["sellers", "products"])
            #expect(try history.map { try $0.int32("digits") } == [64, 64])
        }
    }

    @Test func upTwiceAppliesNothingTheSecondTime() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            try migrator(directory).migrateUp(on: connection)
            #expect(try migrator(directory).migrateUp(on: connection).isEmpty)
        }
    }

    @Test func componentsKeepSeparateHistories() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            try migrator(directory).migrateUp(on: connection)
            let other = try TestInfrastructure.temporaryDirectory(containing: ["0001_notes.up.sql": "CREATE TABLE public.notes (id int);"])
            defer { try? FileManager.default.removeItem(at: other) }
            #expect(try migrator(other, component: "notes").migrateUp(on: connection).map(\.version) == [1])
        }
    }

    @Test func downRevertsNewestFirstToTheTargetVersion() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            try migrator(directory).migrateUp(on: connection)
            #expect(try migrator(directory).migrateDown(to: 1, on: connection).map(\.version) == [2])
            #expect(try tables(connection) == ["sellers"])
            #expect(try migrator(directory).migrateDown(to: 0, on: connection).map(\.version) == [1])
            #expect(try connection.query("SELECT count(*) AS n FROM public.schema_migrations WHERE component = 'shop'").first?.int64("n") == 0)
            // And up again from nothing.
            #expect(try migrator(directory).migrateUp(on: connection).map(\.version) == [1, 2])
        }
    }

    @Test func aChangedAppliedMigrationIsRefusedNamingComponentVersionAndFile() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            try migrator(directory).migrateUp(on: connection)
            try Data("CREATE SCHEMA shop; CREATE TABLE shop.sellers (id text PRIMARY KEY, tier text);".utf8)
                .write(to: directory.appendingPathComponent("0001_sellers.up.sql"))
            let error = #expect(throws: MigrationError.self) { try migrator(directory).migrateUp(on: connection) }
            #expect(error?.kind == .checksumMismatch)
            #expect(error?.component == "shop")
            #expect(error?.version == 1)
            #expect(error?.file == "0001_sellers.up.sql")
            let status = try migrator(directory).status(on: connection)
            guard case .changedSinceApplied = status.first?.state else {
                Issue.record("expected migration 1 to be reported changed, got \(status)")
                return
            }
        }
    }

    @Test func aFailingMigrationLeavesNoTraceAndKeepsEarlierOnes() throws {
        var files = Self.baseFiles
        files["0003_broken.up.sql"] = "CREATE TABLE shop.half (id int); SELECT no_such_function();"
        try withFixture(files) { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            let error = #expect(throws: MigrationError.self) { try migrator(directory).migrateUp(on: connection) }
            #expect(error?.kind == .migrationFailed)
            #expect(error?.version == 3)
            #expect(error?.file == "0003_broken.up.sql")
            #expect(error?.underlying?.code == "42883")
            #expect(try tables(connection) == ["products", "sellers"])
            let versions = try migrator(directory).status(on: connection).map { ($0.version, $0.state == .pending) }
            #expect(versions.map(\.0) == [1, 2, 3])
            #expect(versions.map(\.1) == [false, false, true])
        }
    }

    @Test func statusListsPendingAndAppliedMigrations() throws {
        try withFixture { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            #expect(try migrator(directory).status(on: connection).map(\.state) == [.pending, .pending])
            try migrator(directory).migrateUp(on: connection)
            let states = try migrator(directory).status(on: connection).map(\.state)
            #expect(states.allSatisfy { if case .applied = $0 { true } else { false } })
        }
    }

    @Test func aPendingMigrationOlderThanAnAppliedOneIsRefused() throws {
        let files = ["0001_first.up.sql": "SELECT 1;", "0003_third.up.sql": "SELECT 3;"]
        try withFixture(files) { directory, url in
            let connection = try PostgresConnection.connect(url: url)
            try migrator(directory).migrateUp(on: connection)
            // A branch merged late adds a migration numbered below one already applied.
            try Data("SELECT 2;".utf8).write(to: directory.appendingPathComponent("0002_second.up.sql"))
            let error = #expect(throws: MigrationError.self) { try migrator(directory).migrateUp(on: connection) }
            #expect(error?.kind == .outOfOrder)
            #expect(error?.version == 2)
            #expect(error?.file == "0002_second.up.sql")
        }
    }

    @Test func badlyNamedFilesAreRefused() throws {
        let directory = try TestInfrastructure.temporaryDirectory(containing: ["1_Sellers.up.sql": "SELECT 1;"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = #expect(throws: MigrationError.self) { try migrator(directory).migrationsOnDisk() }
        #expect(error?.kind == .invalidFileName)
        #expect(error?.file == "1_Sellers.up.sql")
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() throws {
        var files = Self.baseFiles
        // Slow enough that both migrators are running at the same time.
        files["0003_slow.up.sql"] = "SELECT pg_sleep(0.3); CREATE TABLE shop.slow (id int);"
        try withFixture(files) { directory, url in
            let outcomes = Mutex<[Result<Int, MigrationError>]>([])
            TestThreads.run(count: 2) { _ in
                let outcome: Result<Int, MigrationError>
                do {
                    let connection = try PostgresConnection.connect(url: url)
                    outcome = .success(try migrator(directory).migrateUp(on: connection, deadline: .after(seconds: 20)).count)
                } catch let error as MigrationError {
                    outcome = .failure(error)
                } catch {
                    outcome = .failure(MigrationError(kind: .database, component: "shop", message: "\(error)"))
                }
                outcomes.withLock { $0.append(outcome) }
            }
            let counts = try outcomes.withLock { $0 }.map { try $0.get() }.sorted()
            #expect(counts == [0, 3])
            let connection = try PostgresConnection.connect(url: url)
            #expect(try connection.query("SELECT count(*) AS n FROM public.schema_migrations").first?.int64("n") == 3)
        }
    }
}
