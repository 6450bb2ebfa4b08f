import Proto
import Testing

@Suite struct RoundTripTests {
    @Test func frameSurvivesARoundTripThroughProtobufC() throws {
        let frame = WireV1.Frame(
            kind: .request, callId: 7, method: "/gate.v1.GateService/Check", timeoutMicros: 250_000,
            metadata: [WireV1.Metadata(key: "authorization", value: "Bearer s3cret")],
            payload: [0, 1, 2, 255]
        )
        let decoded = try WireV1.Frame(serializedBytes: frame.serializedBytes())
        #expect(decoded == frame)
    }
}
