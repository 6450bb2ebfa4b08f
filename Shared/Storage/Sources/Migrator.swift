public import Foundation
public import Logging

/// One numbered migration found on disk.
public struct Migration: Sendable, Hashable {
    /// The number from the file name (`0003_add_index.up.sql` → 3).
    public let version: Int
    /// The name part of the file name (`add_index`).
    public let name: String
    /// The `.up.sql` file.
    public let upFile: URL
    /// The `.down.sql` file, if there is one.
    public let downFile: URL?
}

/// The state of one migration of a component.
public struct MigrationStatus: Sendable, Hashable {
    /// Where a migration stands.
    public enum State: Sendable, Hashable {
        /// Not applied yet.
        case pending
        /// Applied at this instant (microseconds since the Unix epoch), file unchanged since.
        case applied(atUnixMicros: Int64)
        /// Applied, but its up file changed afterwards: `migrateUp` refuses to run.
        case changedSinceApplied(atUnixMicros: Int64)
        /// Recorded as applied but no file has this version (a newer release applied it, or a file was deleted).
        case appliedWithoutFile(atUnixMicros: Int64)
    }

    /// The migration version.
    public let version: Int
    /// The migration name (from the file, or from the history table when the file is missing).
    public let name: String
    /// Where it stands.
    public let state: State
}

/// Applies and reverts a component's numbered SQL migrations, recording them in
/// `public.schema_migrations`.
///
/// Files live in one directory per component: `NNNN_name.up.sql` and optionally
/// `NNNN_name.down.sql` (`NNNN` at least four digits; other non-`.sql` files such as `.keep`
/// are ignored). Rules:
/// - Each migration runs in its own transaction together with its history row, so a failed
///   migration leaves no trace. Files must not contain `BEGIN`/`COMMIT` or statements that
///   cannot run in a transaction (`CREATE INDEX CONCURRENTLY`).
/// - The history row keeps the SHA-256 (hex) of the up file's bytes. It is computed by the
///   server (`sha256()`, PostgreSQL ≥ 11), so no crypto code lives here. An applied migration
///   whose file changed is refused with `.checksumMismatch`: write a new migration instead.
/// - A session-level advisory lock (one key for all components, `advisoryLockKey`) makes
///   concurrent migrators (several instances starting at once) run one after the other; the
///   later one then finds nothing to do.
/// - Pending migrations older than the newest applied one are refused (`.outOfOrder`);
///   applied versions newer than every file (a newer release ran) are tolerated.
///
/// Backups before `migrateDown` are the caller's job.
public struct Migrator: Sendable {
    /// The advisory lock key all migrators share (the ASCII bytes of "o4omigra").
    public static let advisoryLockKey: Int64 = 0x6F34_6F6D_6967_7261

    /// The component whose migrations this migrator handles (e.g. `"policy"`).
    public let component: String
    /// The directory holding the component's migration files.
    public let directory: URL
    private let logger: Logger

    /// Creates a migrator for `component` reading files from `directory`.
    public init(component: String, directory: URL, logger: Logger) {
        self.component = component
        self.directory = directory
        self.logger = logger
    }

    // MARK: - Operations

    /// Applies every pending migration in version order and returns those applied.
    ///
    /// - Parameters:
    ///   - connection: A connection with no open transaction; it holds the advisory lock meanwhile.
    ///   - deadline: Bounds each statement, including the wait for the advisory lock.
    @discardableResult
    public func migrateUp(on connection: PostgresConnection, deadline: Deadline = .distantFuture) throws(MigrationError) -> [Migration] {
        let migrations = try migrationsOnDisk()
        return try withMigrationLock(on: connection, deadline: deadline) { () throws(MigrationError) -> [Migration] in
            try createHistoryTable(on: connection, deadline: deadline)
            let applied = try appliedMigrations(on: connection, deadline: deadline)
            try verify(applied: applied, against: migrations, on: connection, deadline: deadline)
            let pending = migrations.filter { applied[$0.version] == nil }
            if let newestApplied = applied.keys.max(), let stale = pending.first(where: { $0.version < newestApplied }) {
                throw MigrationError(
                    kind: .outOfOrder, component: component, version: stale.version, file: stale.upFile.lastPathComponent,
                    message: "pending migration \(stale.version) is older than applied migration \(newestApplied); renumber it above \(newestApplied)"
                )
            }
            for migration in pending {
                try apply(migration, on: connection, deadline: deadline)
            }
            return pending
        }
    }

    /// Reverts applied migrations newer than `version`, newest first, and returns those reverted.
    ///
    /// `migrateDown(to: 0)` reverts everything. Each reverted migration needs its down file.
    @discardableResult
    public func migrateDown(to version: Int, on connection: PostgresConnection, deadline: Deadline = .distantFuture) throws(MigrationError) -> [Migration] {
        guard version >= 0 else {
            throw MigrationError(kind: .inconsistentFiles, component: component, version: version, message: "the target version must be 0 or more")
        }
        let migrations = try migrationsOnDisk()
        return try withMigrationLock(on: connection, deadline: deadline) { () throws(MigrationError) -> [Migration] in
            try createHistoryTable(on: connection, deadline: deadline)
            let applied = try appliedMigrations(on: connection, deadline: deadline)
            try verify(applied: applied, against: migrations, on: connection, deadline: deadline)
            let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
            var reverted: [Migration] = []
            for appliedVersion in applied.keys.sorted(by: >) where appliedVersion > version {
                guard let migration = byVersion[appliedVersion] else {
                    throw MigrationError(
                        kind: .missingFile, component: component, version: appliedVersion,
                        message: "cannot revert migration \(appliedVersion): this release has no file for it"
                    )
                }
                try revert(migration, on: connection, deadline: deadline)
                reverted.append(migration)
            }
            return reverted
        }
    }

    /// Every migration on disk or in the history table, in version order, with its state.
    public func status(on connection: PostgresConnection, deadline: Deadline = .distantFuture) throws(MigrationError) -> [MigrationStatus] {
        let migrations = try migrationsOnDisk()
        let exists = try database("checking for the history table") { () throws(PostgresError) in
            try connection.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present", deadline: deadline)
                .first?.bool("present") ?? false
        }
        let applied = exists ? try appliedMigrations(on: connection, deadline: deadline) : [:]
        var statuses: [MigrationStatus] = []
        for migration in migrations {
            guard let record = applied[migration.version] else {
                statuses.append(MigrationStatus(version: migration.version, name: migration.name, state: .pending))
                continue
            }
            let checksum = try self.checksum(of: migration, on: connection, deadline: deadline)
            let state: MigrationStatus.State = checksum == record.checksum
                ? .applied(atUnixMicros: record.appliedAt)
                : .changedSinceApplied(atUnixMicros: record.appliedAt)
            statuses.append(MigrationStatus(version: migration.version, name: migration.name, state: state))
        }
        let known = Set(migrations.map(\.version))
        for (version, record) in applied where !known.contains(version) {
            statuses.append(MigrationStatus(version: version, name: record.name, state: .appliedWithoutFile(atUnixMicros: record.appliedAt)))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    /// The migrations in `directory`, in version order, after checking file names and pairs.
    public func migrationsOnDisk() throws(MigrationError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(kind: .unreadableDirectory, component: component, file: directory.path, message: "cannot list the migrations directory: \(error)")
        }
        var ups: [Int: (name: String, file: URL)] = [:]
        var downs: [Int: (name: String, file: URL)] = [:]
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            guard let parsed = Self.parse(fileName: fileName) else {
                throw MigrationError(
                    kind: .invalidFileName, component: component, file: fileName,
                    message: "migration files must be named NNNN_name.up.sql or NNNN_name.down.sql (digits, underscore, lowercase name)"
                )
            }
            let url = directory.appendingPathComponent(fileName)
            if parsed.isUp {
                if let other = ups[parsed.version] {
                    throw MigrationError(kind: .inconsistentFiles, component: component, version: parsed.version, file: fileName,
                                         message: "version \(parsed.version) also used by \(other.file.lastPathComponent)")
                }
                ups[parsed.version] = (parsed.name, url)
            } else {
                if let other = downs[parsed.version] {
                    throw MigrationError(kind: .inconsistentFiles, component: component, version: parsed.version, file: fileName,
                                         message: "version \(parsed.version) also used by \(other.file.lastPathComponent)")
                }
                downs[parsed.version] = (parsed.name, url)
            }
        }
        for (version, down) in downs {
            guard let up = ups[version], up.name == down.name else {
                throw MigrationError(kind: .inconsistentFiles, component: component, version: version, file: down.file.lastPathComponent,
                                     message: "down file has no up file with the same version and name")
            }
        }
        return ups.keys.sorted().compactMap { version in
            ups[version].map { Migration(version: version, name: $0.name, upFile: $0.file, downFile: downs[version]?.file) }
        }
    }

    // MARK: - Steps

    private func apply(_ migration: Migration, on connection: PostgresConnection, deadline: Deadline) throws(MigrationError) {
        let sql = try read(migration.upFile, of: migration)
        let checksum = try checksum(of: migration, on: connection, deadline: deadline)
        do {
            try connection.transaction(deadline: deadline) { connection in
                try connection.simpleQuery(sql, deadline: deadline)
                try connection.query(
                    "INSERT INTO public.schema_migrations (component, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, now())",
                    [.text(component), .int64(Int64(migration.version)), .text(migration.name), .text(checksum)],
                    deadline: deadline
                )
            }
        } catch {
            throw MigrationError(
                kind: .migrationFailed, component: component, version: migration.version, file: migration.upFile.lastPathComponent,
                message: "applying the migration failed; nothing of it was kept", underlying: error as? PostgresError
            )
        }
        logger.info("migration.applied", metadata: [
            "migration.component": "\(component)", "migration.version": "\(migration.version)", "migration.name": "\(migration.name)",
        ])
    }

    private func revert(_ migration: Migration, on connection: PostgresConnection, deadline: Deadline) throws(MigrationError) {
        guard let downFile = migration.downFile else {
            throw MigrationError(
                kind: .missingFile, component: component, version: migration.version,
                file: "\(String(format: "%04d", migration.version))_\(migration.name).down.sql",
                message: "cannot revert migration \(migration.version): it has no down file"
            )
        }
        let sql = try read(downFile, of: migration)
        do {
            try connection.transaction(deadline: deadline) { connection in
                try connection.simpleQuery(sql, deadline: deadline)
                try connection.query(
                    "DELETE FROM public.schema_migrations WHERE component = $1 AND version = $2",
                    [.text(component), .int64(Int64(migration.version))],
                    deadline: deadline
                )
            }
        } catch {
            throw MigrationError(
                kind: .migrationFailed, component: component, version: migration.version, file: downFile.lastPathComponent,
                message: "reverting the migration failed; nothing of it was kept", underlying: error as? PostgresError
            )
        }
        logger.info("migration.reverted", metadata: [
            "migration.component": "\(component)", "migration.version": "\(migration.version)", "migration.name": "\(migration.name)",
        ])
    }

    /// Refuses to go on when an applied migration's file changed or vanished.
    private func verify(
        applied: [Int: AppliedRecord], against migrations: [Migration], on connection: PostgresConnection, deadline: Deadline
    ) throws(MigrationError) {
        let newestFile = migrations.last?.version ?? 0
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = byVersion[version] else {
                if version > newestFile {
                    // A newer release is (or was) running: its migrations are not ours to judge.
                    logger.notice("migration.newer_applied", metadata: ["migration.component": "\(component)", "migration.version": "\(version)"])
                    continue
                }
                throw MigrationError(
                    kind: .missingFile, component: component, version: version, file: "\(String(format: "%04d", version))_\(record.name).up.sql",
                    message: "migration \(version) was applied but its file is gone; restore it"
                )
            }
            let checksum = try checksum(of: migration, on: connection, deadline: deadline)
            guard checksum == record.checksum else {
                throw MigrationError(
                    kind: .checksumMismatch, component: component, version: version, file: migration.upFile.lastPathComponent,
                    message: "applied migration \(version) changed after it was applied (sha256 \(record.checksum) recorded, \(checksum) on disk); "
                        + "restore the original file and put the change in a new migration"
                )
            }
        }
    }

    // MARK: - Database helpers

    private struct AppliedRecord {
        let name: String
        let checksum: String
        let appliedAt: Int64
    }

    private func withMigrationLock<T>(
        on connection: PostgresConnection, deadline: Deadline, _ body: () throws(MigrationError) -> T
    ) throws(MigrationError) -> T {
        try database("taking the migration advisory lock") { () throws(PostgresError) in
            // Session-level (not transaction-level): it must span several transactions.
            try connection.query("SELECT pg_advisory_lock($1)", [.int64(Self.advisoryLockKey)], deadline: deadline)
        }
        defer {
            // If unlocking fails the connection is broken, and a closed session drops its locks.
            _ = try? connection.query(
                "SELECT pg_advisory_unlock($1)", [.int64(Self.advisoryLockKey)],
                deadline: .after(milliseconds: PostgresConnection.cancelGracePeriodMillis)
            )
        }
        return try body()
    }

    private func createHistoryTable(on connection: PostgresConnection, deadline: Deadline) throws(MigrationError) {
        try database("creating public.schema_migrations") { () throws(PostgresError) in
            try connection.simpleQuery(
                """
                CREATE TABLE IF NOT EXISTS public.schema_migrations (
                    component  text        NOT NULL,
                    version    integer     NOT NULL,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version)
                )
                """,
                deadline: deadline
            )
        }
    }

    private func appliedMigrations(on connection: PostgresConnection, deadline: Deadline) throws(MigrationError) -> [Int: AppliedRecord] {
        try database("reading public.schema_migrations") { () throws(PostgresError) in
            let rows = try connection.query(
                "SELECT version, name, checksum, applied_at FROM public.schema_migrations WHERE component = $1",
                [.text(component)], deadline: deadline
            )
            var applied: [Int: AppliedRecord] = [:]
            for row in rows {
                applied[try row.decode(Int.self, "version")] = AppliedRecord(
                    name: try row.string("name"), checksum: try row.string("checksum"), appliedAt: try row.unixMicros("applied_at")
                )
            }
            return applied
        }
    }

    /// The hex SHA-256 of the up file's bytes, computed by the server.
    private func checksum(of migration: Migration, on connection: PostgresConnection, deadline: Deadline) throws(MigrationError) -> String {
        let bytes = try readBytes(migration.upFile, of: migration)
        return try database("computing the checksum of \(migration.upFile.lastPathComponent)") { () throws(PostgresError) in
            try connection.query("SELECT encode(sha256($1::bytea), 'hex') AS checksum", [.bytes(bytes)], deadline: deadline)
                .first?.string("checksum") ?? ""
        }
    }

    @discardableResult
    private func database<T>(_ what: String, _ body: () throws(PostgresError) -> T) throws(MigrationError) -> T {
        do {
            return try body()
        } catch {
            throw MigrationError(kind: .database, component: component, message: "\(what) failed", underlying: error)
        }
    }

    private func readBytes(_ file: URL, of migration: Migration) throws(MigrationError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: file))
        } catch {
            throw MigrationError(kind: .unreadableDirectory, component: component, version: migration.version, file: file.lastPathComponent,
                                 message: "cannot read the file: \(error)")
        }
    }

    private func read(_ file: URL, of migration: Migration) throws(MigrationError) -> String {
        let bytes = try readBytes(file, of: migration)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MigrationError(kind: .invalidFileName, component: component, version: migration.version, file: file.lastPathComponent,
                                 message: "the file is not valid UTF-8")
        }
        return text
    }

    /// Splits `0003_add_index.up.sql` into (3, "add_index", up).
    static func parse(fileName: String) -> (version: Int, name: String, isUp: Bool)? {
        let isUp: Bool
        let stem: Substring
        if fileName.hasSuffix(".up.sql") {
            isUp = true
            stem = fileName.dropLast(".up.sql".count)
        } else if fileName.hasSuffix(".down.sql") {
            isUp = false
            stem = fileName.dropLast(".down.sql".count)
        } else {
            return nil
        }
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let version = Int(digits),
              !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return (version, String(name), isUp)
    }
}
