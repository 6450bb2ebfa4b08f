import Glibc
import Proto
import Storage
import Synchronization
import Testing
@testable import Wire

@Suite struct WireServerTests {
    typealias Request = HealthV1.HealthCheckRequest
    typealias Reply = HealthV1.DependencyStatus

    @Test func answersAUnaryCall() throws {
        let fixture = try WireServerFixture()
        let reply = try fixture.client().call("/test.v1.Test/Echo", Request(service: "hello"), as: Reply.self)
        #expect(reply.name == "hello")
    }

    @Test func answersAsyncCalls() async throws {
        let fixture = try WireServerFixture()
        let client = fixture.client()
        let reply: Reply = try await client.call("/test.v1.Test/Echo", Request(service: "async"))
        #expect(reply.name == "async")
    }

    @Test func pipelinedCallsAreAnsweredOutOfOrder() throws {
        let fixture = try WireServerFixture()
        let socket = try fixture.rawSocket()
        let credential = WireV1.Metadata(key: "authorization", value: "Bearer \(WireServerFixture.checkoutSecret)")
        var bytes = WirePreface.bytes
        bytes += FrameEncoder.encode(WireV1.Frame(
            kind: .request, callId: 1, method: "/test.v1.Test/Sleep", timeoutMicros: 5_000_000,
            metadata: [credential], payload: Request(service: "300").serializedBytes()
        ))
        bytes += FrameEncoder.encode(WireV1.Frame(
            kind: .request, callId: 2, method: "/test.v1.Test/Echo", timeoutMicros: 5_000_000,
            metadata: [credential], payload: Request(service: "fast").serializedBytes()
        ))
        socket.write(bytes)  // both calls in one write: coalesced frames
        let frames = try socket.readFrames(2)
        #expect(frames.map(\.callId) == [2, 1])
        #expect(frames.allSatisfy { $0.kind == .response && $0.statusCode == 0 })
    }

    @Test func callsArrivingTogetherRunInOneCoalescedGroupEachWithItsOwnResult() throws {
        let fixture = try WireServerFixture()
        let socket = try fixture.rawSocket()
        let credential = WireV1.Metadata(key: "authorization", value: "Bearer \(WireServerFixture.checkoutSecret)")
        let wrongCaller = WireV1.Metadata(key: "authorization", value: "Bearer \(WireServerFixture.operatorSecret)")
        var bytes = WirePreface.bytes
        for callID in UInt64(1)...10 {
            let payload: [UInt8] = switch callID {
            case 5: [0xFF, 0xFF, 0xFF]  // not a valid message
            case 7: HealthV1.HealthCheckRequest(service: "").serializedBytes()  // refused by the handler
            default: HealthV1.HealthCheckRequest(service: "item-\(callID)").serializedBytes()
            }
            bytes += FrameEncoder.encode(WireV1.Frame(
                kind: .request, callId: callID, method: "/test.v1.Test/Together", timeoutMicros: 5_000_000,
                metadata: [callID == 9 ? wrongCaller : credential], payload: payload
            ))
        }
        socket.write(bytes)  // one write: the server reads every call in one turn
        let frames = try socket.readFrames(10)
        let byCall = Dictionary(uniqueKeysWithValues: frames.map { ($0.callId, $0) })
        #expect(byCall.count == 10)
        for callID in UInt64(1)...10 {
            let frame = try #require(byCall[callID])
            switch callID {
            case 5: #expect(StatusCode(wireValue: frame.statusCode) == .invalidArgument)
            case 7:
                #expect(StatusCode(wireValue: frame.statusCode) == .invalidArgument)
                #expect(frame.statusMessage == "service is required")
            case 9: #expect(StatusCode(wireValue: frame.statusCode) == .permissionDenied)
            default:
                #expect(frame.statusCode == 0)
                let reply = try HealthV1.DependencyStatus(serializedBytes: frame.payload)
                #expect(reply.name == "item-\(callID)")
            }
        }
        #expect(fixture.largestCoalescedGroup.load() > 1, "calls read together must reach the handler together")
    }

    @Test func aSingleCoalescingCallRunsAlone() throws {
        let fixture = try WireServerFixture()
        let reply = try fixture.client().call("/test.v1.Test/Together", HealthV1.HealthCheckRequest(service: "one"), as: HealthV1.DependencyStatus.self)
        #expect(reply.name == "one")
        #expect(fixture.largestCoalescedGroup.load() == 1)
    }

    @Test func oneSlowCallDoesNotStallOtherConnections() throws {
        let fixture = try WireServerFixture()
        let slow = fixture.client()
        let fast = fixture.client()
        let done = StartCounter()
        startThread(name: "slow-call") {
            _ = try? slow.call("/test.v1.Test/Sleep", Request(service: "1500"), as: Reply.self)
            done.add(1, ordering: .relaxed)
        }
        while fixture.sleepsStarted.load(ordering: .relaxed) == 0 { usleep(1000) }
        for index in 0..<20 {
            let reply = try fast.call("/test.v1.Test/Echo", Request(service: "\(index)"), as: Reply.self)
            #expect(reply.name == "\(index)")
        }
        let slowFinished = done.load(ordering: .relaxed) > 0
        #expect(!slowFinished, "fast calls must finish while the slow one still runs")
    }

    @Test func aLoneCallRunInlineStallsOtherConnectionsOnlyUntilTheWatchdogHandsOff() throws {
        let fixture = try WireServerFixture { $0.runsLoneCallsInline = true }
        let slow = fixture.client()
        let fast = fixture.client()
        // Lone calls from the only active connection, one after another (for
        // over a millisecond): each runs on the worker that read it.
        for index in 0..<50 {
            let reply = try slow.call("/test.v1.Test/Echo", Request(service: "\(index)"), as: Reply.self)
            #expect(reply.name == "\(index)")
        }
        usleep(2_000)
        let done = StartCounter()
        startThread(name: "slow-call") {
            _ = try? slow.call("/test.v1.Test/Sleep", Request(service: "1500"), as: Reply.self)
            done.add(1, ordering: .relaxed)
        }
        while fixture.sleepsStarted.load(ordering: .relaxed) == 0 { usleep(1000) }
        // The slow call was alone, so it runs inline; the watchdog must hand
        // the lead to a follower within about 1 ms (two 500 µs ticks), not
        // after 1.5 s.
        let started = Deadline.now()
        for index in 0..<20 {
            let reply = try fast.call("/test.v1.Test/Echo", Request(service: "\(index)"), as: Reply.self)
            #expect(reply.name == "\(index)")
        }
        let slowFinished = done.load(ordering: .relaxed) > 0
        #expect(!slowFinished, "fast calls must finish while the slow one still runs (took \((Deadline.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000) ms)")
        fixture.server.stop()
    }

    @Test func anExpiredDeadlineIsDeadlineExceeded() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client()
        let error = #expect(throws: RPCError.self) {
            try client.call("/test.v1.Test/Sleep", Request(service: "800"), as: Reply.self, timeout: .milliseconds(100))
        }
        #expect(error?.code == .deadlineExceeded)
    }

    @Test func aCallWhoseDeadlinePassedInTheQueueIsNotRun() throws {
        let fixture = try WireServerFixture { $0.workerThreads = 1 }
        let client = fixture.client()
        let blocker = fixture.client()
        startThread(name: "blocker") { _ = try? blocker.call("/test.v1.Test/Sleep", Request(service: "400"), as: Reply.self) }
        while fixture.sleepsStarted.load(ordering: .relaxed) == 0 { usleep(1000) }
        // Queued behind the blocker; its 100 ms deadline expires before a worker is free.
        let error = #expect(throws: RPCError.self) {
            try client.call("/test.v1.Test/Sleep", Request(service: "1"), as: Reply.self, timeout: .milliseconds(100))
        }
        #expect(error?.code == .deadlineExceeded)
        usleep(500_000)
        #expect(fixture.sleepsStarted.load(ordering: .relaxed) == 1, "the expired call must not have started")
    }

    @Test func anUnknownMethodIsUnimplemented() throws {
        let fixture = try WireServerFixture()
        let error = #expect(throws: RPCError.self) {
            try fixture.client().call("/test.v1.Test/Nope", Request(), as: Reply.self)
        }
        #expect(error?.code == .unimplemented)
        #expect(error?.message.contains("/test.v1.Test/Nope") == true)
    }

    @Test func aMalformedRequestPayloadIsInvalidArgument() throws {
        let fixture = try WireServerFixture()
        let error = #expect(throws: RPCError.self) {
            try fixture.client().unary("/test.v1.Test/Echo", payload: [0xFF, 0xFF, 0xFF])
        }
        #expect(error?.code == .invalidArgument)
    }

    @Test func aMissingCredentialIsUnauthenticated() throws {
        let fixture = try WireServerFixture()
        let error = #expect(throws: RPCError.self) {
            try fixture.client(credential: nil).call("/test.v1.Test/Echo", Request(), as: Reply.self)
        }
        #expect(error?.code == .unauthenticated)
        let wrong = #expect(throws: RPCError.self) {
            try fixture.client(credential: "not-a-known-secret-at-all").call("/test.v1.Test/Echo", Request(), as: Reply.self)
        }
        #expect(wrong?.code == .unauthenticated)
    }

    @Test func theWrongCallerIsPermissionDenied() throws {
        let fixture = try WireServerFixture()
        let error = #expect(throws: RPCError.self) {
            try fixture.client().call("/test.v1.Test/OperatorOnly", Request(), as: Reply.self)
        }
        #expect(error?.code == .permissionDenied)
        let reply = try fixture.client(credential: WireServerFixture.operatorSecret)
            .call("/test.v1.Test/OperatorOnly", Request(), as: Reply.self)
        #expect(reply.ok)
    }

    @Test func healthAnswersServingAndNotFoundForUnknownServices() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client(credential: nil)
        let whole = try client.call(HealthService.checkMethod, Request(service: ""), as: HealthV1.HealthCheckResponse.self)
        #expect(whole.status == .serving)
        let named = try client.call(HealthService.checkMethod, Request(service: "test.v1.Test"), as: HealthV1.HealthCheckResponse.self)
        #expect(named.status == .serving)
        let error = #expect(throws: RPCError.self) {
            try client.call(HealthService.checkMethod, Request(service: "nope.v1.Nope"), as: HealthV1.HealthCheckResponse.self)
        }
        #expect(error?.code == .notFound)
    }

    @Test func httpOnTheWirePortGetsA400AndAClose() throws {
        let fixture = try WireServerFixture()
        let socket = try fixture.rawSocket()
        socket.write(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let answer = String(decoding: socket.readUntilClosed(), as: UTF8.self)
        #expect(answer.contains("HTTP/1.1 400 Bad Request"))
        // Other connections are undisturbed.
        #expect(try fixture.client().call("/test.v1.Test/Echo", Request(service: "still"), as: Reply.self).name == "still")
    }

    @Test func garbageIsClosedAtOnce() throws {
        let fixture = try WireServerFixture()
        let socket = try fixture.rawSocket()
        socket.write([0x16, 0x03, 0x01, 0x00, 0x10, 0, 0, 0, 0, 0])
        let answer = socket.readUntilClosed()
        #expect(Array(answer.prefix(8)) == WirePreface.bytes)
        #expect(answer.count == 8, "nothing but the server preface before the close")
    }

    @Test func anOversizedFrameGetsGoAwayAndAClose() throws {
        let fixture = try WireServerFixture { $0.maxFrameSize = 1024 }
        let socket = try fixture.rawSocket()
        socket.write(WirePreface.bytes + [0x00, 0x01, 0x00, 0x00])
        let frames = try socket.readFrames(1)
        #expect(frames.first?.kind == .goaway)
        #expect(frames.first?.reason.contains("exceeds the 1024-byte limit") == true)
        #expect(socket.readUntilClosed().isEmpty)
    }

    @Test func aMalformedFrameGetsGoAwayAndDoesNotDisturbOthers() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client()
        let socket = try fixture.rawSocket()
        socket.write(WirePreface.bytes + [0, 0, 0, 2, 0xFF, 0xFF])
        let frames = try socket.readFrames(1)
        #expect(frames.first?.kind == .goaway)
        #expect(try client.call("/test.v1.Test/Echo", Request(service: "ok"), as: Reply.self).name == "ok")
    }

    @Test func pingIsAnsweredWithPong() throws {
        let fixture = try WireServerFixture()
        let rtt = try fixture.client().ping()
        #expect(rtt < .seconds(1))
    }

    @Test func drainFinishesInFlightCallsAndRefusesNewOnes() throws {
        let fixture = try WireServerFixture()
        let client = fixture.client()
        let result = Mutex<Result<Reply, RPCError>?>(nil)
        startThread(name: "in-flight") {
            do throws(RPCError) {
                let reply = try client.call("/test.v1.Test/Sleep", Request(service: "500"), as: Reply.self)
                result.withLock { $0 = .success(reply) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        while fixture.sleepsStarted.load(ordering: .relaxed) == 0 { usleep(1000) }
        startThread(name: "drain") { fixture.server.drain() }
        usleep(100_000)
        #expect(fixture.server.isDraining)
        // A new call on the same (now GOAWAY'd) client cannot reach a server that stopped accepting.
        let refused = #expect(throws: RPCError.self) {
            try client.call("/test.v1.Test/Echo", Request(service: "late"), as: Reply.self, timeout: .milliseconds(500))
        }
        #expect(refused?.code == .unavailable)
        while result.withLock({ $0 }) == nil { usleep(10_000) }
        let finished = try result.withLock { $0 }!.get()
        #expect(finished.name == "500")
    }

    @Test func aLargeResponseArrivesWhole() throws {
        let fixture = try WireServerFixture()
        let name = String((0..<3_000_000).lazy.map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
        let reply = try fixture.client().call("/test.v1.Test/Echo", Request(service: name), as: Reply.self)
        #expect(reply.name == name)
    }

    /// Large and small responses to a client that does not read for a while:
    /// the server queues what the socket does not take (large payloads as
    /// they are, small frames joined) and every frame still arrives whole.
    @Test func responsesQueuedBehindASlowReaderArriveWhole() throws {
        let fixture = try WireServerFixture()
        let socket = try fixture.rawSocket()
        let credential = WireV1.Metadata(key: "authorization", value: "Bearer \(WireServerFixture.checkoutSecret)")
        var expected: [UInt64: String] = [:]
        var bytes = WirePreface.bytes
        for callId in UInt64(1)...24 {
            let size = callId % 6 == 0 ? 1_200_000 + Int(callId) : Int(callId) * 10
            let name = String(repeating: Character(Unicode.Scalar(UInt8(65 + callId % 26))), count: size)
            expected[callId] = name
            bytes += FrameEncoder.encode(WireV1.Frame(
                kind: .request, callId: callId, method: "/test.v1.Test/Echo", timeoutMicros: 10_000_000,
                metadata: [credential], payload: Request(service: name).serializedBytes()
            ))
        }
        socket.write(bytes)
        usleep(300_000)
        let frames = try socket.readFrames(expected.count)
        #expect(frames.count == expected.count)
        for frame in frames {
            #expect(frame.kind == .response && frame.statusCode == 0)
            #expect(try Reply(serializedBytes: frame.payload).name == expected[frame.callId], "call \(frame.callId)")
        }
    }

    @Test func holdsAThousandConcurrentConnections() throws {
        let fixture = try WireServerFixture()
        raiseOpenFileLimit(to: 4096)
        var sockets: [RawSocket] = []
        for _ in 0..<1000 { sockets.append(try fixture.rawSocket()) }
        for socket in sockets { socket.write(WirePreface.bytes + FrameEncoder.encode(WireV1.Frame(kind: .ping, payload: [1]))) }
        var pongs = 0
        for socket in sockets where try socket.readFrames(1).first?.kind == .pong { pongs += 1 }
        #expect(pongs == 1000)
        #expect(try fixture.client().call("/test.v1.Test/Echo", Request(service: "x"), as: Reply.self).name == "x")
    }
}

/// Both ends of 1,000 loopback connections live in this process.
private func raiseOpenFileLimit(to wanted: rlim_t) {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(wanted, limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

@Suite struct RollingRestartTests {
    typealias Request = HealthV1.HealthCheckRequest
    typealias Reply = HealthV1.DependencyStatus

    /// Two instances behind one client; each is drained and replaced on the
    /// same port in turn while the client keeps calling. Not one call may fail.
    @Test func restartingEachInstanceUnderLoadLosesNoCall() throws {
        let first = try WireServerFixture()
        let second = try WireServerFixture()
        let ports = [first.server.port, second.server.port]
        var configuration = WireClientConfiguration(
            addresses: ports.map { "127.0.0.1:\($0)" }, credential: WireServerFixture.checkoutSecret
        )
        configuration.maxAttempts = 5
        let client = WireClient(configuration: configuration)
        let failures = Mutex<[String]>([])
        let calls = StartCounter()
        let stop = StartCounter()
        let workers = 4
        let finished = StartCounter()
        for worker in 0..<workers {
            startThread(name: "caller-\(worker)") {
                while stop.load() == 0 {
                    do throws(RPCError) {
                        // Sleep calls are not idempotent: only "not processed" retries are allowed for them.
                        _ = try client.call("/test.v1.Test/Sleep", Request(service: "2"), as: Reply.self, timeout: .seconds(5))
                        calls.add(1)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                finished.add(1)
            }
        }
        var fixtures = [first, second]
        for index in 0..<2 {
            usleep(300_000)
            let port = ports[index]
            let old = fixtures[index]
            // Rolling update with maxUnavailable 0: the new instance binds the same port as soon as the old one has drained.
            old.server.drain()
            fixtures[index] = try WireServerFixture { $0.port = port }
        }
        usleep(300_000)
        stop.add(1)
        while finished.load() < workers { usleep(10_000) }
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "failed calls: \(failed.prefix(5))")
        #expect(calls.load() > 100)
        _ = fixtures
    }
}
