import Storage
import Synchronization
import TestSupport
import Testing

@Suite struct RedisPoolTests {
    private let prefix = TestInfrastructure.uniqueID("storage-tests")

    @Test func manyThreadsShareAFewConnections() throws {
        let pool = RedisPool(configuration: try TestInfrastructure.redisConfiguration(), size: 2, logger: TestInfrastructure.logger("redis-pool"))
        defer { pool.close() }
        let key = "\(prefix):hits"
        let failures = Mutex<[String]>([])
        TestThreads.run(count: 6) { _ in
            for _ in 0..<50 {
                do {
                    try pool.withConnection(deadline: .after(seconds: 5)) { redis in
                        try redis.command(["INCR", key], deadline: .after(seconds: 1)).throwingServerError()
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(pool.connectionCount <= 2)
        #expect(try pool.withConnection { try $0.command(["GET", key]).integerValue } == 300)
        try pool.withConnection { try $0.command(["DEL", key]) }
    }

    @Test func waitingForAFreeConnectionRespectsTheDeadline() throws {
        let pool = RedisPool(configuration: try TestInfrastructure.redisConfiguration(), size: 1, logger: TestInfrastructure.logger("redis-pool"))
        defer { pool.close() }
        let inner = Mutex<RedisError?>(nil)
        try pool.withConnection { _ in
            TestThreads.run(count: 1) { _ in
                do {
                    try pool.withConnection(deadline: .after(milliseconds: 100)) { _ in }
                } catch let error as RedisError {
                    inner.withLock { $0 = error }
                } catch {}
            }
        }
        #expect(inner.withLock { $0?.kind } == .timeout)
    }

    @Test func reachabilityProbeReportsUpAndDown() throws {
        let pool = RedisPool(configuration: try TestInfrastructure.redisConfiguration(), size: 1, logger: TestInfrastructure.logger("redis-pool"))
        defer { pool.close() }
        #expect(pool.isReachable(timeout: .seconds(1)))
        let nowhere = RedisPool(configuration: .init(host: "127.0.0.1", port: 1), size: 1, logger: TestInfrastructure.logger("redis-pool"))
        #expect(!nowhere.isReachable(timeout: .milliseconds(300)))
    }
}
