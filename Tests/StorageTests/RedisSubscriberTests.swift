@testable import Storage
import TestSupport
import Testing

/// Integration tests of the subscription connection against the Redis from
/// `deploy/local/test` (`REDIS_URL`). Channels carry a unique name.
@Suite struct RedisSubscriberTests {
    private let channel = TestInfrastructure.uniqueID("subscriber-tests")

    private func connect() throws -> RedisConnection {
        try RedisConnection(configuration: try TestInfrastructure.redisConfiguration(), deadline: .after(seconds: 2))
    }

    private func subscribe(name: String? = nil) throws -> RedisSubscriber {
        try RedisSubscriber(
            configuration: try TestInfrastructure.redisConfiguration(), channels: [channel], name: name,
            deadline: .after(seconds: 2))
    }

    @Test func publishedMessagesArriveInOrderAndAPongFollowsThem() throws {
        let subscriber = try subscribe()
        let publisher = try connect()
        #expect(try publisher.command(["PUBLISH", channel, "one"]) == .integer(1))
        #expect(try publisher.command(["PUBLISH", channel, "two"]) == .integer(1))
        try subscriber.ping()
        #expect(try subscriber.next(deadline: .after(seconds: 2)) == .message(channel: channel, payload: Array("one".utf8)))
        #expect(try subscriber.next(deadline: .after(seconds: 2)) == .message(channel: channel, payload: Array("two".utf8)))
        #expect(try subscriber.next(deadline: .after(seconds: 2)) == .pong)
        #expect(!subscriber.isBroken)
    }

    @Test func nothingPublishedMeansNilAtTheDeadline() throws {
        let subscriber = try subscribe()
        let started = Deadline.now()
        #expect(try subscriber.next(deadline: .after(milliseconds: 50)) == nil)
        let waited = Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds
        #expect(waited >= 50_000_000 && waited < 1_000_000_000)
        #expect(!subscriber.isBroken)
    }

    @Test func aKilledSubscriptionThrowsAndStaysBroken() throws {
        let name = TestInfrastructure.uniqueID("sub").replacingOccurrences(of: " ", with: "_")
        let subscriber = try subscribe(name: name)
        let admin = try connect()
        let list = try #require(try admin.command(["CLIENT", "LIST"]).stringValue)
        let line = try #require(list.split(separator: "\n").first { $0.contains(" name=\(name) ") })
        let id = try #require(line.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3))
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        #expect(throws: RedisError.self) { _ = try subscriber.next(deadline: .after(seconds: 2)) }
        #expect(subscriber.isBroken)
        #expect(throws: RedisError.self) { try subscriber.ping() }
    }
}
