@testable import Storage
import TestSupport
import Testing

/// Integration tests against the Redis from `deploy/local/test` (`REDIS_URL`).
/// Keys carry a unique prefix so concurrent runs never collide.
@Suite struct RedisConnectionTests {
    private let prefix = TestInfrastructure.uniqueID("storage-tests")

    private func connect() throws -> RedisConnection {
        try RedisConnection(configuration: try TestInfrastructure.redisConfiguration(), deadline: .after(seconds: 2))
    }

    @Test func setThenGetReturnsTheValue() throws {
        let redis = try connect()
        let key = "\(prefix):greeting"
        #expect(try redis.command(["SET", key, "hello", "EX", "60"]) == .status("OK"))
        #expect(try redis.command(["GET", key]).stringValue == "hello")
        #expect(try redis.command(["GET", "\(prefix):missing"]) == .null)
        #expect(try redis.command(["DEL", key]) == .integer(1))
    }

    @Test func binaryValuesSurviveUnchanged() throws {
        let redis = try connect()
        let key = "\(prefix):binary"
        let value: [UInt8] = [0, 1, 2, 0, 255, 13, 10]
        var set = RedisCommand(["SET", key])
        set.append(bytes: value)
        try redis.command(set)
        #expect(try redis.command(["GET", key]).bytesValue == value)
        try redis.command(["DEL", key])
    }

    @Test func errorRepliesAreValuesAndLeaveTheConnectionUsable() throws {
        let redis = try connect()
        let key = "\(prefix):list"
        try redis.command(["RPUSH", key, "a"])
        let reply = try redis.command(["GET", key])
        #expect(reply.errorMessage?.hasPrefix("WRONGTYPE") == true)
        let error = #expect(throws: RedisError.self) { try reply.throwingServerError() }
        #expect(error?.kind == .server)
        #expect(try redis.command(["LRANGE", key, "0", "-1"]) == .array([.bytes(Array("a".utf8))]))
        try redis.command(["DEL", key])
    }

    @Test func pipelineReturnsRepliesInOrder() throws {
        let redis = try connect()
        let key = "\(prefix):counter"
        let replies = try redis.pipeline([
            ["SET", key, "10"],
            ["INCRBY", key, "5"],
            ["GET", key],
            ["GET", "\(prefix):absent"],
            ["DEL", key],
        ])
        #expect(replies == [.status("OK"), .integer(15), .bytes(Array("15".utf8)), .null, .integer(1)])
        #expect(replies[2].integerValue == 15)
    }

    @Test func scriptDigestMatchesTheServers() throws {
        let redis = try connect()
        let script = RedisScript("return redis.call('GET', KEYS[1])")
        #expect(try redis.command(["SCRIPT", "LOAD", script.source]).stringValue == script.sha1)
        #expect(SHA1.hexDigest(of: Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hexDigest(of: []) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func evaluateFallsBackToEvalWhenTheScriptIsUnknown() throws {
        let redis = try connect()
        let key = "\(prefix):cas"
        // A unique script body: its digest cannot be cached on the server yet.
        let script = RedisScript("-- \(prefix)\nredis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])")
        #expect(try redis.command(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(0)]))
        #expect(try redis.evaluate(script, keys: [key], arguments: ["v1"]).stringValue == "v1")
        // EVAL cached it: the next call goes through EVALSHA.
        #expect(try redis.command(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(1)]))
        #expect(try redis.evaluate(script, keys: [key], arguments: ["v2"]).stringValue == "v2")
        try redis.command(["DEL", key])
    }

    @Test func reconnectsAfterTheServerKillsTheConnection() throws {
        let redis = try connect()
        let admin = try connect()
        let id = try #require(try redis.command(["CLIENT", "ID"]).integerValue)
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        // The closed socket is noticed before the next command, which runs on a new connection.
        #expect(try redis.command(["PING"]) == .status("PONG"))
        #expect(try redis.command(["CLIENT", "ID"]).integerValue != id)
    }

    @Test func aCommandTimeoutThrowsAndTheNextCommandReconnects() throws {
        let redis = try connect()
        let started = Deadline.now()
        // BLPOP on an empty list blocks server-side for 2 s; our deadline is 100 ms.
        let error = #expect(throws: RedisError.self) {
            try redis.command(["BLPOP", "\(prefix):empty", "2"], deadline: .after(milliseconds: 100))
        }
        #expect(error?.kind == .timeout)
        #expect(Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds < 1_000_000_000)
        #expect(redis.needsReconnect)
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func connectingToAClosedPortFails() {
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(configuration: .init(host: "127.0.0.1", port: 1), deadline: .after(seconds: 1))
        }
        #expect(error?.kind == .connectionFailed)
    }

    @Test func urlsParseHostPortDatabaseAndPassword() throws {
        let configuration = try RedisConnection.Configuration(url: "redis://:s3cret@cache.local:6380/2")
        #expect(configuration.host == "cache.local")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.password == "s3cret")
        #expect(configuration.username == nil)
        let error = #expect(throws: RedisError.self) { try RedisConnection.Configuration(url: "http://x/abc") }
        #expect(error?.kind == .invalidUsage)
    }
}
