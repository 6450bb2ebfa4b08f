import Proto
import Testing
@testable import Wire

@Suite struct FrameDecoderTests {
    let ping = WireV1.Frame(kind: .ping, payload: [1, 2, 3])
    let request = WireV1.Frame(kind: .request, callId: 9, method: "/gate.v1.GateService/Check", payload: [7, 7])

    @Test func decodesAFrameDeliveredOneByteAtATime() throws {
        var decoder = FrameDecoder()
        let bytes = FrameEncoder.encode(request)
        for (index, byte) in bytes.enumerated() {
            #expect(try decoder.nextFrame() == nil, "frame must not appear before byte \(index) arrives")
            decoder.append([byte])
        }
        #expect(try decoder.nextFrame() == request)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func decodesCoalescedFramesInOrder() throws {
        var decoder = FrameDecoder()
        decoder.append(FrameEncoder.encode(ping) + FrameEncoder.encode(request) + FrameEncoder.encode(ping))
        #expect(try decoder.nextFrame() == ping)
        #expect(try decoder.nextFrame() == request)
        #expect(try decoder.nextFrame() == ping)
        #expect(try decoder.nextFrame() == nil)
    }

    @Test func keepsTheTailOfTheNextFrameBuffered() throws {
        var decoder = FrameDecoder()
        let second = FrameEncoder.encode(request)
        decoder.append(FrameEncoder.encode(ping) + second.prefix(5))
        #expect(try decoder.nextFrame() == ping)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 5)
        decoder.append(Array(second.dropFirst(5)))
        #expect(try decoder.nextFrame() == request)
    }

    @Test func lengthPrefixIsBigEndianAndExact() {
        let bytes = FrameEncoder.encode(ping)
        let body = ping.serializedBytes()
        #expect(bytes.count == body.count + 4)
        #expect(Array(bytes.prefix(4)) == [0, 0, 0, UInt8(body.count)])
        #expect(Array(bytes.dropFirst(4)) == body)
    }

    @Test func refusesAnOversizedLengthBeforeTheBodyArrives() {
        var decoder = FrameDecoder(maxFrameSize: 1024)
        decoder.append([0x00, 0x10, 0x00, 0x00])  // 1 MiB declared, nothing else sent
        #expect(throws: FrameError(.frameTooLarge(length: 1 << 20, limit: 1024))) { try decoder.nextFrame() }
    }

    @Test func reservesALargeFrameOnceItsLengthIsKnown() throws {
        let frame = WireV1.Frame(kind: .response, callId: 3, payload: (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let bytes = FrameEncoder.encode(frame) + FrameEncoder.encode(ping)
        var decoder = FrameDecoder()
        decoder.append(Array(bytes.prefix(3)))
        #expect(decoder.bufferCapacity < 1024, "nothing is reserved before the length is whole")
        decoder.append(Array(bytes[3..<65_536]))
        let reserved = decoder.bufferCapacity
        #expect(reserved >= 4 + frame.serializedBytes().count)
        var offset = 65_536
        while offset < bytes.count {
            let end = min(offset + 65_536, bytes.count)
            decoder.append(Array(bytes[offset..<end]))
            offset = end
            if offset < bytes.count - 100 { #expect(decoder.bufferCapacity == reserved, "no regrowth while the frame arrives") }
        }
        #expect(try decoder.nextFrame() == frame)
        #expect(try decoder.nextFrame() == ping)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func reservesNothingForAnOversizedLength() {
        var decoder = FrameDecoder(maxFrameSize: 1 << 20)
        decoder.append([0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        #expect(decoder.bufferCapacity < 1024)
        #expect(throws: FrameError(.frameTooLarge(length: 0x7FFF_FFFF, limit: 1 << 20))) { try decoder.nextFrame() }
    }

    @Test func acceptsAFrameExactlyAtTheLimit() throws {
        let frame = WireV1.Frame(kind: .request, callId: 1, method: "/a.B/C", payload: [UInt8](repeating: 1, count: 100))
        let size = frame.serializedBytes().count
        var decoder = FrameDecoder(maxFrameSize: size)
        decoder.append(FrameEncoder.encode(frame))
        #expect(try decoder.nextFrame() == frame)
        var tooSmall = FrameDecoder(maxFrameSize: size - 1)
        tooSmall.append(FrameEncoder.encode(frame))
        #expect(throws: FrameError.self) { try tooSmall.nextFrame() }
    }

    @Test func refusesABodyThatIsNotAFrame() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 3, 0xFF, 0xFF, 0xFF])
        #expect(throws: FrameError(.malformedFrame)) { try decoder.nextFrame() }
    }

    @Test func refusesAFrameWithoutAKind() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 0])  // an empty body decodes as kind UNSPECIFIED
        #expect(throws: FrameError(.protocolViolation("frame kind is missing or unknown"))) { try decoder.nextFrame() }
    }

    @Test func refusesARequestWithoutACallID() {
        var decoder = FrameDecoder()
        decoder.append(FrameEncoder.encode(WireV1.Frame(kind: .request, method: "/a.B/C")))
        #expect(throws: FrameError(.protocolViolation("REQUEST without call_id"))) { try decoder.nextFrame() }
    }

    @Test func refusesAnOversizedPingPayload() {
        var decoder = FrameDecoder()
        decoder.append(FrameEncoder.encode(WireV1.Frame(kind: .ping, payload: [UInt8](repeating: 0, count: 65))))
        #expect(throws: FrameError.self) { try decoder.nextFrame() }
    }
}
