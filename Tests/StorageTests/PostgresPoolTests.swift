import Storage
import Synchronization
import TestSupport
import Testing

@Suite struct PostgresPoolTests {
    private func makePool(url: String, size: Int) -> PostgresPool {
        PostgresPool(
            configuration: .init(url: url, size: size, connectTimeout: .seconds(5), applicationName: "storage-tests"),
            logger: TestInfrastructure.logger("postgres-pool")
        )
    }

    @Test func manyThreadsShareAFewConnections() throws {
        try TestInfrastructure.withFreshDatabase { url in
            let pool = makePool(url: url, size: 3)
            defer { pool.close() }
            try pool.withConnection { connection in
                try connection.simpleQuery("CREATE TABLE hits (worker int NOT NULL, n int NOT NULL)")
            }
            let failures = Mutex<[String]>([])
            TestThreads.run(count: 8) { worker in
                for n in 0..<25 {
                    do {
                        try pool.withConnection(deadline: .after(seconds: 10)) { connection in
                            try connection.query("INSERT INTO hits (worker, n) VALUES ($1, $2)", [.int64(Int64(worker)), .int64(Int64(n))])
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(failures.withLock { $0 } == [])
            #expect(pool.connectionCount <= 3)
            let total = try pool.withConnection { try $0.query("SELECT count(*) AS n FROM hits").first?.int64("n") }
            #expect(total == 200)
        }
    }

    @Test func waitingForAFreeConnectionRespectsTheDeadline() throws {
        let pool = makePool(url: try TestInfrastructure.databaseURL(), size: 1)
        defer { pool.close() }
        let error = #expect(throws: PostgresError.self) {
            try pool.withConnection { _ in
                // The only connection is taken: a second checkout from another thread must time out.
                let inner = Mutex<PostgresError?>(nil)
                TestThreads.run(count: 1) { _ in
                    do {
                        try pool.withConnection(deadline: .after(milliseconds: 100)) { _ in }
                    } catch let error as PostgresError {
                        inner.withLock { $0 = error }
                    } catch {}
                }
                if let error = inner.withLock({ $0 }) { throw error }
            }
        }
        #expect(error?.kind == .timeout)
    }

    @Test func aTimedOutStatementLeavesThePoolWorking() throws {
        let pool = makePool(url: try TestInfrastructure.databaseURL(), size: 1)
        defer { pool.close() }
        let error = #expect(throws: PostgresError.self) {
            try pool.withConnection(deadline: .after(milliseconds: 100)) { connection in
                try connection.query("SELECT pg_sleep(2)", deadline: .after(milliseconds: 100))
            }
        }
        #expect(error?.kind == .timeout)
        let value = try pool.withConnection(deadline: .after(seconds: 5)) { connection in
            try connection.query("SELECT 1 AS one").first?.int64("one")
        }
        #expect(value == 1)
    }

    @Test func aBrokenConnectionIsReplaced() throws {
        let pool = makePool(url: try TestInfrastructure.databaseURL(), size: 1)
        defer { pool.close() }
        let firstPID = try pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid").first?.int32("pid") }
        let admin = try PostgresConnection.connect(url: try TestInfrastructure.databaseURL())
        try admin.query("SELECT pg_terminate_backend($1)", [.int32(try #require(firstPID))])
        // The idle connection is found dead before reuse and a new session takes its place.
        var secondPID: Int32?
        for _ in 0..<20 where secondPID == nil {
            secondPID = try? pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid").first?.int32("pid") }
        }
        #expect(secondPID != nil)
        #expect(secondPID != firstPID)
    }

    @Test func aTransactionLeftOpenIsRolledBackBeforeReuse() throws {
        try TestInfrastructure.withFreshDatabase { url in
            let pool = makePool(url: url, size: 1)
            defer { pool.close() }
            try pool.withConnection { connection in
                try connection.simpleQuery("CREATE TABLE t (x int)")
                try connection.simpleQuery("BEGIN; INSERT INTO t VALUES (1)")
                #expect(connection.isInTransaction)
            }
            let state = try pool.withConnection { connection in
                (connection.isInTransaction, try connection.query("SELECT count(*) AS n FROM t").first?.int64("n"))
            }
            #expect(state.0 == false)
            #expect(state.1 == 0)
        }
    }

    @Test func reachabilityProbeReportsUpAndDown() throws {
        let pool = makePool(url: try TestInfrastructure.databaseURL(), size: 1)
        defer { pool.close() }
        #expect(pool.isReachable(timeout: .seconds(2)))
        let nowhere = makePool(url: "postgresql://postgres@127.0.0.1:1/postgres", size: 1)
        #expect(!nowhere.isReachable(timeout: .milliseconds(500)))
    }

    @Test func aClosedPoolRefusesWork() throws {
        let pool = makePool(url: try TestInfrastructure.databaseURL(), size: 1)
        pool.close()
        let error = #expect(throws: PostgresError.self) { try pool.withConnection { _ in } }
        #expect(error?.kind == .poolClosed)
    }
}
