import Proto
import Testing
@testable import Wire

@Suite struct FrameEncoderTests {
    /// Call ids at every varint length boundary, and payload sizes at the
    /// length varint's boundaries (1, 2 and 3 bytes).
    static let callIds: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, .max]
    static let payloadSizes = [0, 1, 2, 127, 128, 300, 16_383, 16_384, 70_000]

    @Test(arguments: callIds)
    func okResponseMatchesProtobufCByteForByte(callId: UInt64) {
        for size in Self.payloadSizes {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(callId % 251)) }
            let expected = FrameEncoder.encode(WireV1.Frame(kind: .response, callId: callId, statusCode: 0, payload: payload))
            #expect(FrameEncoder.encodeOKResponse(callId: callId, payload: payload) == expected, "call id \(callId), \(size) bytes")
        }
    }

    @Test(arguments: callIds)
    func okResponseHeaderThenPayloadIsTheWholeFrame(callId: UInt64) {
        for size in Self.payloadSizes + [4 * 1024 * 1024 - 64] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(callId % 13)) }
            let header = FrameEncoder.okResponseHeader(callId: callId, payloadCount: size)
            #expect(header.count <= 28)
            #expect(header + payload == FrameEncoder.encodeOKResponse(callId: callId, payload: payload), "call id \(callId), \(size) bytes")
        }
    }

    @Test func okResponseDecodesAsTheFrameItStandsFor() throws {
        var decoder = FrameDecoder()
        for (index, callId) in Self.callIds.dropFirst().enumerated() {
            let payload = GateLikePayload.bytes(index)
            decoder.append(FrameEncoder.encodeOKResponse(callId: callId, payload: payload))
            let frame = try #require(try decoder.nextFrame())
            #expect(frame == WireV1.Frame(kind: .response, callId: callId, statusCode: 0, payload: payload))
        }
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func varintLengthCountsSevenBitGroups() {
        for value in Self.callIds {
            var bytes: [UInt8] = []
            FrameEncoder.appendVarint(value, to: &bytes)
            #expect(bytes.count == FrameEncoder.varintLength(value))
            #expect(bytes.last.map { $0 & 0x80 == 0 } == true)
        }
    }
}

/// Payloads shaped like real responses: a few short protobuf messages.
private enum GateLikePayload {
    static func bytes(_ index: Int) -> [UInt8] {
        HealthV1.DependencyStatus(name: String(repeating: "x", count: index * 40), ok: index % 2 == 0).serializedBytes()
    }
}
