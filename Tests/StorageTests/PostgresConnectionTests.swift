import Storage
import TestSupport
import Testing

/// Integration tests against the PostgreSQL from `deploy/local/test` (`DATABASE_URL`).
/// Tables are TEMP tables: private to the session, gone when the connection closes.
@Suite struct PostgresConnectionTests {
    private func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(url: try TestInfrastructure.databaseURL(), timeout: .seconds(5))
    }

    @Test func valuesOfEveryTypeRoundTrip() throws {
        let connection = try connect()
        let rows = try connection.query(
            "SELECT $1::text AS t, $2::int8 AS big, $3::int4 AS small, $4::bool AS flag, $5::timestamptz AS at, $6::bytea AS raw",
            [.text("grüße, 'quoted' \"text\""), .int64(.min), .int32(.max), .bool(true), .timestamp(unixMicros: 1_795_437_296_123_456), .bytes([0, 255, 10])]
        )
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(try row.string("t") == "grüße, 'quoted' \"text\"")
        #expect(try row.int64("big") == .min)
        #expect(try row.int32("small") == .max)
        #expect(try row.bool("flag") == true)
        #expect(try row.unixMicros("at") == 1_795_437_296_123_456)
        #expect(try row.decode([UInt8].self, "raw") == [0, 255, 10])
        #expect(try row.string(0) == row.string("t"))
    }

    @Test func nullsRoundTripAndNonOptionalGettersRefuseThem() throws {
        let connection = try connect()
        let row = try #require(try connection.query("SELECT $1::text AS note, $2::int8 AS n", [nil, nil]).first)
        #expect(try row.isNull("note"))
        #expect(try row.decodeIfPresent(String.self, "note") == nil)
        #expect(try row.decodeIfPresent(Int64.self, 1) == nil)
        let error = #expect(throws: PostgresError.self) { try row.string("note") }
        #expect(error?.kind == .decoding)
        #expect(error?.message.contains("note") == true)
    }

    @Test func unknownColumnsAndWrongTypesNameTheColumn() throws {
        let connection = try connect()
        let row = try #require(try connection.query("SELECT 'abc'::text AS code").first)
        let missing = #expect(throws: PostgresError.self) { try row.string("nope") }
        #expect(missing?.kind == .invalidUsage)
        let wrongType = #expect(throws: PostgresError.self) { try row.int64("code") }
        #expect(wrongType?.kind == .decoding)
        #expect(wrongType?.message.contains("\"code\"") == true)
    }

    @Test func preparedStatementsAreReusedAcrossCalls() throws {
        let connection = try connect()
        for value in 1...3 {
            #expect(try connection.query("SELECT $1::int8 * 2 AS doubled", [.int64(Int64(value))]).first?.int64("doubled") == Int64(value * 2))
        }
        // One server-side prepared statement for the three calls.
        let prepared = try connection.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int8 * 2%'")
        #expect(try prepared.first?.int64("n") == 1)
    }

    @Test func explicitlyPreparedStatementsRunByName() throws {
        let connection = try connect()
        try connection.prepare(name: "add", sql: "SELECT $1::int4 + $2::int4 AS sum")
        #expect(try connection.execute(prepared: "add", [.int32(2), .int32(3)]).first?.int32("sum") == 5)
        #expect(try connection.execute(prepared: "add", [.int32(-2), .int32(3)]).first?.int32("sum") == 1)
    }

    @Test func uniqueViolationsCarrySQLStateAndConstraint() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE sellers (id text CONSTRAINT sellers_pkey PRIMARY KEY)")
        try connection.query("INSERT INTO sellers (id) VALUES ($1)", ["s-1"])
        let error = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO sellers (id) VALUES ($1)", ["s-1"])
        }
        #expect(error?.kind == .server)
        #expect(error?.code == PostgresError.SQLState.uniqueViolation)
        #expect(error?.isUniqueViolation == true)
        #expect(error?.constraint == "sellers_pkey")
        #expect(error?.detail?.contains("s-1") == true)
        // A server error leaves the connection usable.
        #expect(!connection.isBroken)
        #expect(try connection.query("SELECT count(*) AS n FROM sellers").first?.int64("n") == 1)
    }

    @Test func affectedRowsCountsUpdatedRows() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE flags (name text PRIMARY KEY, on_off bool NOT NULL); INSERT INTO flags VALUES ('a', false), ('b', false), ('c', true)")
        let result = try connection.query("UPDATE flags SET on_off = true WHERE on_off = $1", [.bool(false)])
        #expect(result.affectedRows == 2)
        #expect(result.isEmpty)
    }

    @Test func transactionCommitsWhenBodyReturns() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE items (id int8 PRIMARY KEY)")
        let inserted = try connection.transaction(isolation: .serializable) { connection in
            try connection.query("INSERT INTO items VALUES ($1), ($2)", [1, 2]).affectedRows
        }
        #expect(inserted == 2)
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*) AS n FROM items").first?.int64("n") == 2)
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        struct Abort: Error {}
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE items (id int8 PRIMARY KEY)")
        #expect(throws: Abort.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1])
                throw Abort()
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*) AS n FROM items").first?.int64("n") == 0)
    }

    @Test func transactionRollsBackAfterAServerErrorInside() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE items (id int8 PRIMARY KEY)")
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1])
                try connection.query("INSERT INTO items VALUES ($1)", [1])
            }
        }
        #expect(error?.isUniqueViolation == true)
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*) AS n FROM items").first?.int64("n") == 0)
    }

    @Test func transactionsDoNotNest() throws {
        let connection = try connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.transaction { _ in }
            }
        }
        #expect(error?.kind == .invalidUsage)
        #expect(!connection.isInTransaction)
    }

    @Test func isolationLevelIsApplied() throws {
        let connection = try connect()
        let level = try connection.transaction(isolation: .repeatableRead, readOnly: true) { connection in
            try connection.query("SELECT current_setting('transaction_isolation') AS level").first?.string("level")
        }
        #expect(level == "repeatable read")
    }

    @Test func deadlineCancelsASlowStatementAndTheConnectionStaysUsable() throws {
        let connection = try connect()
        let started = Deadline.now()
        let error = #expect(throws: PostgresError.self) {
            try connection.query("SELECT pg_sleep(2)", deadline: .after(milliseconds: 100))
        }
        let elapsedMillis = (Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
        #expect(error?.kind == .timeout)
        #expect(elapsedMillis < 1000, "the call returned \(elapsedMillis) ms after a 100 ms deadline")
        #expect(!connection.isBroken)
        #expect(try connection.query("SELECT 7 AS seven").first?.int64("seven") == 7)
    }

    @Test func anExpiredDeadlineSendsNothing() throws {
        let connection = try connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.query("SELECT 1", deadline: .after(micros: -1))
        }
        #expect(error?.kind == .timeout)
        #expect(!connection.isBroken)
    }

    @Test func scriptsRunSeveralStatementsAndReturnTheLastResult() throws {
        let connection = try connect()
        let rows = try connection.simpleQuery("CREATE TEMP TABLE a (x int); INSERT INTO a VALUES (1), (2); SELECT sum(x) AS total FROM a")
        #expect(try rows.first?.int64("total") == 3)
    }

    @Test func pipelineReturnsEachStatementsResultInOrder() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE items (id int8 PRIMARY KEY, name text)")
        let results = try connection.pipeline([
            PostgresStatement("INSERT INTO items VALUES ($1, $2)", [1, "one"]),
            PostgresStatement("INSERT INTO items VALUES ($1, $2)", [2, nil]),
            PostgresStatement("SELECT name FROM items WHERE id = $1", [1]),
            PostgresStatement("SELECT count(*) AS n FROM items"),
        ])
        #expect(results.count == 4)
        #expect(results[0].affectedRows == 1)
        #expect(try results[2].first?.string("name") == "one")
        #expect(try results[3].first?.int64("n") == 2)
        // The statements were prepared once and are reused by later calls.
        #expect(try connection.query("SELECT name FROM items WHERE id = $1", [2]).first?.decodeIfPresent(String.self, "name") == nil)
        let prepared = try connection.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT name FROM items%'")
        #expect(try prepared.first?.int64("n") == 1)
    }

    @Test func aFailingPipelineKeepsNoneOfItsChangesAndThrowsTheFirstError() throws {
        let connection = try connect()
        try connection.simpleQuery("CREATE TEMP TABLE items (id int8 PRIMARY KEY)")
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([
                PostgresStatement("INSERT INTO items VALUES ($1)", [1]),
                PostgresStatement("INSERT INTO items VALUES ($1)", [1]),
                PostgresStatement("INSERT INTO items VALUES ($1)", [3]),
            ])
        }
        #expect(error?.isUniqueViolation == true)
        #expect(!connection.isBroken)
        #expect(try connection.query("SELECT count(*) AS n FROM items").first?.int64("n") == 0)
    }

    @Test func aTerminatedSessionIsReportedBroken() throws {
        let connection = try connect()
        let pid = try #require(try connection.query("SELECT pg_backend_pid() AS pid").first?.int32("pid"))
        let admin = try connect()
        try admin.query("SELECT pg_terminate_backend($1)", [.int32(pid)])
        let error = #expect(throws: PostgresError.self) {
            // The first statement after the kill may race the FATAL notice; two calls are decisive.
            try connection.query("SELECT 1")
            try connection.query("SELECT 1")
        }
        #expect(error?.kind == .connectionBroken || error?.code == "57P01")
        #expect(connection.isBroken)
    }

    @Test func connectingToANonexistentDatabaseFailsClearly() throws {
        let url = try TestInfrastructure.databaseURL()
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.connect(url: TestInfrastructure.url(url, replacingDatabaseWith: "no_such_database_here"), timeout: .seconds(5))
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("no_such_database_here") == true)
    }

    @Test func connectingToAClosedPortFailsWithinTheTimeout() {
        let started = Deadline.now()
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.connect(url: "postgresql://postgres@127.0.0.1:1/postgres", timeout: .seconds(2))
        }
        #expect(error?.kind == .connectionFailed || error?.kind == .timeout)
        #expect(Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds < 3_000_000_000)
    }
}
