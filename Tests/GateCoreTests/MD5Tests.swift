import Testing

@testable import GateCore

@Suite("MD5")
struct MD5Tests {
    /// The test suite of RFC 1321, appendix A.5.
    static let rfcSuite: [(message: String, hex: String)] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a"
        ),
    ]

    @Test("RFC 1321 test suite", arguments: rfcSuite)
    func matchesTheRFCTestSuite(message: String, hex: String) {
        #expect(MD5.hash(message).hexString == hex)
        #expect(MD5.hash(Array(message.utf8)).hexString == hex)
    }

    /// Lengths around the padding boundaries (55/56 bytes: one or two final
    /// blocks; 64/128: whole blocks), pinned with Python's hashlib.
    static let boundaryLengths: [(length: Int, hex: String)] = [
        (55, "52c0e574e1198de5fe3f8f11440dcb1b"),
        (56, "46c9907fc908ee68b1e7b8e71286a518"),
        (57, "1c805dd236c35cab25fcb1bc73802c51"),
        (63, "a62f6d59e837867693f042f5b8f5a236"),
        (64, "7160b8fb5e9e4023d549c3971fbaeead"),
        (65, "70bd662e7aefbda85a0f7244167b7897"),
        (119, "e84905d4214f4d1ca56c2cdcc152b143"),
        (120, "e3eb5a6c8669ea01a8c185b8abc8a5dc"),
        (128, "10b2da1a82f16d99a81a7203fe9f02cb"),
    ]

    @Test("padding boundaries", arguments: boundaryLengths)
    func handlesEveryPaddingBoundary(length: Int, hex: String) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        #expect(MD5.hash(bytes).hexString == hex)
    }

    @Test func hashesAMillionBytes() {
        #expect(MD5.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hexString == "7707d6ae4e027c70eea2a935c2296f21")
    }

    @Test func hashesTheUTF8BytesOfAString() {
        #expect(MD5.hash("제품-1").hexString == "09521e85afe36d1a5f26413e2493d59d")
    }

    @Test func exposesBytesAndTheLeadingWordBigEndian() {
        let digest = MD5.hash("abc")
        #expect(digest.bytes == [0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72])
        #expect(digest.leadingUInt32 == 0x9001_5098)
        #expect(digest.description == "900150983cd24fb0d6963f7d28e17f72")
    }
}
