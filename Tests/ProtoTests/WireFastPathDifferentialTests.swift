@testable import Proto
import Testing

/// The generated Swift encoder and decoder against protobuf-c's own pack and
/// unpack (the contract's codec), over random messages and over their bytes
/// mutated every way a peer or a wire could: flipped and cut bytes, unknown
/// fields of every wire type, repeated singular fields, overlong varints and
/// length prefixes, NUL and invalid UTF-8 in strings.
///
/// Encoding must be byte-for-byte protobuf-c's. Decoding must give exactly
/// what protobuf-c gives (the same message, or a failure for both): the
/// Swift reader either reads the message itself or hands it to protobuf-c,
/// and each suite checks that both happened.
@Suite struct WireFastPathDifferentialTests {
    @Test func resolveBatchResponseAgreesWithProtobufC() {
        let outcome = Differential(PolicyV1.ResolveBatchResponse.self, fast: { .init(fastDecoding: $0) }, protobufC: { try .init(protobufC: $0) },
                                   protobufCBytes: { $0.protobufCBytes() })
            .run(seed: 1) { random in
                PolicyV1.ResolveBatchResponse(results: (0..<random.below(6)).map { _ in random.itemResult() })
            }
        outcome.expectBothPathsTaken()
    }

    @Test func resolveBatchRequestAgreesWithProtobufC() {
        let outcome = Differential(PolicyV1.ResolveBatchRequest.self, fast: { .init(fastDecoding: $0) }, protobufC: { try .init(protobufC: $0) },
                                   protobufCBytes: { $0.protobufCBytes() })
            .run(seed: 2) { random in
                PolicyV1.ResolveBatchRequest(items: (0..<random.below(6)).map { _ in random.orderItem() })
            }
        outcome.expectBothPathsTaken()
    }

    @Test func recordCommissionsResponseAgreesWithProtobufC() {
        let outcome = Differential(PolicyV1.RecordCommissionsResponse.self, fast: { .init(fastDecoding: $0) }, protobufC: { try .init(protobufC: $0) },
                                   protobufCBytes: { $0.protobufCBytes() })
            .run(seed: 3) { random in
                PolicyV1.RecordCommissionsResponse(lines: (0..<random.below(4)).map { _ in
                    PolicyV1.CommissionLine(
                        orderItemId: random.string(), item: random.maybe { random.orderItem() },
                        resolution: random.maybe { random.resolution() }, batchId: random.string(),
                        recordedAtUnixMicros: random.int64(), recalculatedAtUnixMicros: random.int64(), newlyWritten: random.bool()
                    )
                })
            }
        outcome.expectBothPathsTaken()
    }

    @Test func linkPolicyRequestAgreesWithProtobufC() {
        let outcome = Differential(PolicyV1.LinkPolicyRequest.self, fast: { .init(fastDecoding: $0) }, protobufC: { try .init(protobufC: $0) },
                                   protobufCBytes: { $0.protobufCBytes() })
            .run(seed: 4) { random in
                PolicyV1.LinkPolicyRequest(
                    scopeKind: random.element(PolicyV1.ScopeKind.allCases), scopeId: random.string(), policyId: random.string(),
                    settlementCycleDays: Int32(truncatingIfNeeded: random.int64()), operatorId: random.string()
                )
            }
        outcome.expectBothPathsTaken()
    }

    @Test func frameAgreesWithProtobufC() {
        let outcome = Differential(WireV1.Frame.self, fast: { .init(fastDecoding: $0) }, protobufC: { try .init(protobufC: $0) },
                                   protobufCBytes: { $0.protobufCBytes() })
            .run(seed: 5) { random in
                WireV1.Frame(
                    kind: random.element(WireV1.FrameKind.allCases), callId: random.uint64(), method: random.string(),
                    timeoutMicros: random.uint64(),
                    metadata: (0..<random.below(3)).map { _ in WireV1.Metadata(key: random.string(), value: random.string()) },
                    statusCode: UInt32(truncatingIfNeeded: random.uint64()), statusMessage: random.string(),
                    payload: (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.uint64()) },
                    lastCallId: random.uint64(), reason: random.string()
                )
            }
        outcome.expectBothPathsTaken()
    }

    @Test func emptyBytesDecodeToTheDefaultMessageOnTheFastPath() {
        let empty: [UInt8] = []
        #expect(empty.withUnsafeBytes { PolicyV1.ResolveBatchResponse(fastDecoding: $0) } == PolicyV1.ResolveBatchResponse())
        #expect(PolicyV1.ResolveBatchResponse().serializedBytes() == [])
    }

    @Test func knownMalformedBytesFailLikeProtobufC() {
        let malformed: [[UInt8]] = [
            [0x0A],  // a key with no length
            [0x0A, 0x05, 0x0A],  // a length past the end
            [0x0A, 0x80],  // an unterminated length
            [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // an eleven-byte varint
            [0x0B],  // a group start (wire type 3)
            [0x0F],  // wire type 7
            [0x00],  // field number 0
            [0x0D, 0x01],  // a fixed32 cut short
        ]
        for bytes in malformed {
            let fast = bytes.withUnsafeBytes { PolicyV1.ResolveBatchResponse(fastDecoding: $0) }
            let protobufC = bytes.withUnsafeBytes { try? PolicyV1.ResolveBatchResponse(protobufC: $0) }
            #expect(fast == nil, "the Swift reader must leave \(bytes) to protobuf-c")
            #expect(protobufC == nil, "protobuf-c accepted \(bytes)")
            #expect(throws: ProtoDecodingError.self) { try PolicyV1.ResolveBatchResponse(serializedBytes: bytes) }
        }
    }
}

// MARK: - The harness

/// Runs one message type through random values and mutations of their bytes.
private struct Differential<Message: ProtoMessage> {
    let fast: (UnsafeRawBufferPointer) -> Message?
    let protobufC: (UnsafeRawBufferPointer) throws -> Message
    let protobufCBytes: (Message) -> [UInt8]

    init(
        _: Message.Type, fast: @escaping (UnsafeRawBufferPointer) -> Message?,
        protobufC: @escaping (UnsafeRawBufferPointer) throws -> Message,
        protobufCBytes: @escaping (Message) -> [UInt8]
    ) {
        self.fast = fast
        self.protobufC = protobufC
        self.protobufCBytes = protobufCBytes
    }

    /// How often each decoder path ran.
    struct Outcome {
        var readBySwift = 0
        var leftToProtobufC = 0
        var rejected = 0

        func expectBothPathsTaken() {
            #expect(readBySwift > 100, "the Swift reader read too few inputs: \(readBySwift)")
            #expect(leftToProtobufC > 100, "too few inputs were left to protobuf-c: \(leftToProtobufC)")
            #expect(rejected > 10, "too few inputs were malformed: \(rejected)")
        }
    }

    func run(seed: UInt64, messages: Int = 300, mutationsEach: Int = 12, _ make: (RandomSource) -> Message) -> Outcome {
        let random = RandomSource(seed: seed)
        var outcome = Outcome()
        for _ in 0..<messages {
            let message = make(random)
            let bytes = message.serializedBytes()
            #expect(bytes == protobufCBytes(message), "the Swift encoder differs from protobuf-c for \(message)")
            compare(bytes, &outcome)
            for _ in 0..<mutationsEach {
                compare(random.mutate(bytes), &outcome)
            }
        }
        return outcome
    }

    private func compare(_ bytes: [UInt8], _ outcome: inout Outcome) {
        bytes.withUnsafeBytes { raw in
            let reference = try? protobufC(raw)
            let fastResult = fast(raw)
            if let fastResult {
                outcome.readBySwift += 1
                #expect(fastResult == reference, "the Swift reader and protobuf-c disagree on \(bytes)")
            } else {
                outcome.leftToProtobufC += 1
            }
            if reference == nil { outcome.rejected += 1 }
            // The public decoder is the two together.
            let decoded = try? Message(serializedBytes: raw)
            #expect(decoded == reference, "the generated decoder and protobuf-c disagree on \(bytes)")
        }
    }
}

/// A seeded generator (SplitMix64): every run checks the same inputs. A class,
/// so the closures of `maybe` can draw from it too.
private final class RandomSource {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    func uint64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func below(_ bound: Int) -> Int { Int(uint64() % UInt64(bound)) }
    func bool() -> Bool { uint64() & 1 == 1 }
    func element<T>(_ values: [T]) -> T { values[below(values.count)] }
    func maybe<T>(_ make: () -> T) -> T? { below(4) == 0 ? nil : make() }

    /// Zero, small, large, negative and extreme values, each often.
    func int64() -> Int64 {
        switch below(6) {
        case 0: 0
        case 1: Int64(below(200))
        case 2: -Int64(below(200)) - 1
        case 3: Int64(bitPattern: uint64())
        case 4: element([Int64.min, Int64.max, Int64(Int32.min), Int64(Int32.max), 1 << 35])
        default: Int64(below(1_000_000_000))
        }
    }

    /// Empty, ASCII, non-ASCII and NUL-holding strings (protobuf-c cuts at a NUL).
    func string() -> String {
        switch below(6) {
        case 0: ""
        case 1: "bench-\(below(100_000))"
        case 2: "é✓-\(below(100))-日本"
        case 3: "before\u{0}after"
        case 4: "\u{0}"
        default: String(repeating: "x", count: below(300))
        }
    }

    func orderItem() -> PolicyV1.OrderItem {
        PolicyV1.OrderItem(
            orderItemId: string(), productId: string(), supplierId: string(), sellerId: string(), sellerTier: string(),
            lineAmount: int64(), currency: element(["", "USD", "KWD", "JPY"]), orderTimeUnixMicros: int64()
        )
    }

    func int64Value() -> PolicyV1.Int64Value? { maybe { PolicyV1.Int64Value(value: int64()) } }

    func resolution() -> PolicyV1.Resolution {
        PolicyV1.Resolution(
            orderItemId: string(), level: element(PolicyV1.ResolutionLevel.allCases), commissionAmount: int64(),
            currency: string(),
            appliedPolicy: maybe {
                PolicyV1.PolicySnapshot(
                    policyId: string(), code: string(), version: int64(), kind: element(PolicyV1.PolicyKind.allCases),
                    commissionType: element(PolicyV1.CommissionType.allCases), ratePpm: int64(), fixedAmount: int64(),
                    currency: string(), minCommission: int64Value(), maxCommission: int64Value(),
                    validFromUnixMicros: int64Value(), validUntilUnixMicros: int64Value()
                )
            },
            failureReason: element(PolicyV1.FailureReason.allCases), supplierId: string(), sellerTier: string()
        )
    }

    func itemResult() -> PolicyV1.ItemResult {
        PolicyV1.ItemResult(
            orderItemId: string(), resolution: maybe { resolution() },
            error: maybe { PolicyV1.ItemError(orderItemId: string(), statusCode: UInt32(below(17)), statusMessage: string()) }
        )
    }

    /// `bytes` changed in one of the ways a peer, a bug or a wire can change it.
    func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let at = bytes.isEmpty ? 0 : below(bytes.count + 1)
        switch below(11) {
        case 0 where !bytes.isEmpty:  // one byte changed
            bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: uint64())
        case 1:  // cut short
            bytes.removeSubrange(at...)
        case 2:  // random bytes inserted
            bytes.insert(contentsOf: (0..<below(4) + 1).map { _ in UInt8(truncatingIfNeeded: uint64()) }, at: at)
        case 3:  // an unknown field of each wire type, appended
            let field = UInt64(below(40) + 16)
            switch below(4) {
            case 0: bytes += varint(field << 3 | 0) + varint(uint64())
            case 1: bytes += varint(field << 3 | 1) + (0..<8).map { _ in UInt8(below(256)) }
            case 2: bytes += varint(field << 3 | 2) + [3, 1, 2, 3]
            default: bytes += varint(field << 3 | 5) + [1, 2, 3, 4]
            }
        case 4:  // a known field number with each wire type
            bytes += [UInt8(below(15) + 1) << 3 | UInt8(element([0, 1, 2, 5]))] + [1, 0, 0, 0, 0, 0, 0, 0, 0]
        case 5:  // the message twice: every singular field repeated (protobuf-c merges or replaces)
            bytes += bytes
        case 6:  // a string field holding invalid UTF-8 or a NUL
            bytes += [0x0A, 3] + element([[0xFF, 0xFE, 0x41], [0x41, 0x00, 0x42], [0xC3, 0x28, 0x41], [0xE2, 0x82, 0x41]])
        case 7:  // an overlong (non-minimal) length prefix
            bytes += [0x0A, 0x83, 0x00, 0x41, 0x42, 0x43]
        case 8:  // ten- and eleven-byte varints, with and without bits past 64
            bytes += [0x10] + [UInt8](repeating: 0xFF, count: 9) + [element([0x01, 0x02, 0x7F, 0x81])]
        case 9:  // an overlong key for field 1
            bytes += [0x8A, 0x00, 0x01, 0x41]
        default:  // an empty or a present-but-empty embedded message
            bytes += [0x12, 0x00]
        }
        return bytes
    }

    private func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }
}
