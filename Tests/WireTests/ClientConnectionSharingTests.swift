import Glibc
import Proto
import Synchronization
import Storage
import Testing
@testable import Wire

/// One client connection shared by blocking and async callers: whoever waits
/// reads (see `ClientConnection`), so replies must still reach the right
/// caller, none may be lost, and no caller may hang when another reads for it.
@Suite struct ClientConnectionSharingTests {
    typealias Request = HealthV1.HealthCheckRequest
    typealias Reply = HealthV1.DependencyStatus

    @Test func blockingCallersSharingOneConnectionEachGetTheirOwnReply() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client { $0.connectionsPerAddress = 1 }
        defer { client.close() }
        let threads = 12
        let callsPerThread = 150
        let mismatches = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        for thread in 0..<threads {
            startThread(name: "sharing-\(thread)") {
                for call in 0..<callsPerThread {
                    let expected = "t\(thread)-c\(call)"
                    do {
                        let reply = try client.call("/test.v1.Test/Echo", Request(service: expected), as: Reply.self)
                        if reply.name != expected { mismatches.add(1, ordering: .relaxed) }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
                finished.add(1, ordering: .releasing)
            }
        }
        let deadline = Deadline.after(micros: 30_000_000)
        while finished.load(ordering: .acquiring) < threads && !deadline.isExpired { usleep(5_000) }
        #expect(finished.load(ordering: .acquiring) == threads, "every caller finishes (none waits forever for a reader)")
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test func asyncAndBlockingCallersMixOnOneConnection() async throws {
        let fixture = try WireServerFixture()
        let client = fixture.client { $0.connectionsPerAddress = 1 }
        defer { client.close() }
        let blockingDone = Atomic<Int>(0)
        let blockingOK = Atomic<Int>(0)
        for thread in 0..<4 {
            startThread(name: "mixed-\(thread)") {
                for call in 0..<100 {
                    let expected = "b\(thread)-\(call)"
                    if let reply = try? client.call("/test.v1.Test/Echo", Request(service: expected), as: Reply.self),
                       reply.name == expected {
                        blockingOK.add(1, ordering: .relaxed)
                    }
                }
                blockingDone.add(1, ordering: .releasing)
            }
        }
        let asyncNames = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let reply: Reply = try await client.call("/test.v1.Test/Echo", Request(service: "a\(index)"))
                    return reply.name == "a\(index)"
                }
            }
            var matched = 0
            for try await ok in group where ok { matched += 1 }
            return matched
        }
        let deadline = Deadline.after(micros: 30_000_000)
        while blockingDone.load(ordering: .acquiring) < 4 && !deadline.isExpired { try await Task.sleep(for: .milliseconds(5)) }
        #expect(asyncNames == 200)
        #expect(blockingOK.load(ordering: .relaxed) == 400)
    }

    @Test func aBlockingCallerGivesUpAtItsDeadlineWhileAnotherReads() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client { $0.connectionsPerAddress = 1 }
        defer { client.close() }
        // A slow call holds the reading role; a short call on the same
        // connection must still end at its own deadline, not the slow one's.
        let slowDone = Atomic<Bool>(false)
        startThread(name: "slow-reader") {
            _ = try? client.call("/test.v1.Test/Sleep", Request(service: "1200"), as: Reply.self)
            slowDone.store(true, ordering: .releasing)
        }
        while fixture.sleepsStarted.load() == 0 { usleep(1_000) }
        let started = Deadline.now()
        let error = #expect(throws: RPCError.self) {
            try client.call("/test.v1.Test/Sleep", Request(service: "1000"), as: Reply.self, timeout: .milliseconds(150))
        }
        let waitedMillis = (Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
        #expect(error?.code == .deadlineExceeded)
        #expect(waitedMillis < 900, "the short call ended after \(waitedMillis) ms")
        let reply = try client.call("/test.v1.Test/Echo", Request(service: "after"), as: Reply.self)
        #expect(reply.name == "after")
        while !slowDone.load(ordering: .acquiring) { usleep(5_000) }
    }
}
