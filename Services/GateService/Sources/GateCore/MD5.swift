/// MD5 (RFC 1321), small and allocation-free for messages of any length.
///
/// The gate needs MD5 for one thing: the seed's rollout bucketing
/// (``RolloutBucket``), which has to pick the same products as the platform
/// did. It is not used, and must not be used, for anything that needs a
/// cryptographic hash. Hashing works on contiguous bytes; the padded tail
/// lives in a stack buffer, so a call allocates nothing.
public enum MD5 {
    /// A 16-byte MD5 digest.
    public struct Digest: Sendable, Hashable, CustomStringConvertible {
        // The four state words after the last block; the digest bytes are
        // their little-endian bytes in the order a, b, c, d.
        let a: UInt32
        let b: UInt32
        let c: UInt32
        let d: UInt32

        /// The 16 digest bytes, in the order RFC 1321 prints them.
        public var bytes: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(16)
            for word in [a, b, c, d] {
                for shift in stride(from: 0, to: 32, by: 8) {
                    out.append(UInt8(truncatingIfNeeded: word &>> UInt32(shift)))
                }
            }
            return out
        }

        /// The digest as 32 lowercase hexadecimal digits (what `md5sum` and
        /// Node's `digest('hex')` print).
        public var hexString: String {
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(32)
            for byte in bytes {
                out.append(digits[Int(byte &>> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// The first four digest bytes read as a big-endian unsigned integer:
        /// the value of the first 8 hex digits, which the seed's bucketing uses
        /// (`parseInt(hex.substring(0, 8), 16)`).
        public var leadingUInt32: UInt32 { a.byteSwapped }

        /// ``hexString``.
        public var description: String { hexString }
    }

    /// The digest of a string's UTF-8 bytes.
    public static func hash(_ string: String) -> Digest {
        if let digest = string.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        // Bridged or otherwise non-contiguous strings: copy once.
        return hash(Array(string.utf8))
    }

    /// The digest of a byte array.
    public static func hash(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The digest of raw bytes.
    public static func hash(_ message: UnsafeRawBufferPointer) -> Digest {
        var state = State()
        let fullBlocks = message.count / 64
        if let base = message.baseAddress {
            for block in 0..<fullBlocks {
                state.compress(base + block * 64)
            }
        }
        let tailStart = fullBlocks * 64
        let tailCount = message.count - tailStart
        // Padding: 0x80, zeros, then the bit length as a little-endian UInt64,
        // filling one block, or two when fewer than 9 bytes remain in the first.
        let paddedCount = tailCount + 9 <= 64 ? 64 : 128
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { tail in
            tail.initializeMemory(as: UInt8.self, repeating: 0)
            if tailCount > 0 {
                tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: message[tailStart...]))
            }
            tail[tailCount] = 0x80
            // RFC 1321 takes the length modulo 2^64.
            let bitLength = UInt64(truncatingIfNeeded: message.count) &* 8
            tail.storeBytes(of: bitLength.littleEndian, toByteOffset: paddedCount - 8, as: UInt64.self)
            guard let base = UnsafeRawPointer(tail.baseAddress) else { return }
            state.compress(base)
            if paddedCount == 128 {
                state.compress(base + 64)
            }
        }
        return Digest(a: state.a, b: state.b, c: state.c, d: state.d)
    }

    /// The running state of the four 32-bit words.
    private struct State {
        var a: UInt32 = 0x6745_2301
        var b: UInt32 = 0xefcd_ab89
        var c: UInt32 = 0x98ba_dcfe
        var d: UInt32 = 0x1032_5476

        /// Processes one 64-byte block. The 64 steps are unrolled with their
        /// constants inline (RFC 1321 section 3.4), which avoids table lookups
        /// and bounds checks on the gate's hot path.
        mutating func compress(_ block: UnsafeRawPointer) {
            @inline(__always) func word(_ index: Int) -> UInt32 {
                UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            }
            let x0 = word(0), x1 = word(1), x2 = word(2), x3 = word(3)
            let x4 = word(4), x5 = word(5), x6 = word(6), x7 = word(7)
            let x8 = word(8), x9 = word(9), x10 = word(10), x11 = word(11)
            let x12 = word(12), x13 = word(13), x14 = word(14), x15 = word(15)
            var a = self.a, b = self.b, c = self.c, d = self.d

        a = Self.f(a, b, c, d, x0, 7, 0xd76aa478)
        d = Self.f(d, a, b, c, x1, 12, 0xe8c7b756)
        c = Self.f(c, d, a, b, x2, 17, 0x242070db)
        b = Self.f(b, c, d, a, x3, 22, 0xc1bdceee)
        a = Self.f(a, b, c, d, x4, 7, 0xf57c0faf)
        d = Self.f(d, a, b, c, x5, 12, 0x4787c62a)
        c = Self.f(c, d, a, b, x6, 17, 0xa8304613)
        b = Self.f(b, c, d, a, x7, 22, 0xfd469501)
        a = Self.f(a, b, c, d, x8, 7, 0x698098d8)
        d = Self.f(d, a, b, c, x9, 12, 0x8b44f7af)
        c = Self.f(c, d, a, b, x10, 17, 0xffff5bb1)
        b = Self.f(b, c, d, a, x11, 22, 0x895cd7be)
        a = Self.f(a, b, c, d, x12, 7, 0x6b901122)
        d = Self.f(d, a, b, c, x13, 12, 0xfd987193)
        c = Self.f(c, d, a, b, x14, 17, 0xa679438e)
        b = Self.f(b, c, d, a, x15, 22, 0x49b40821)
        a = Self.g(a, b, c, d, x1, 5, 0xf61e2562)
        d = Self.g(d, a, b, c, x6, 9, 0xc040b340)
        c = Self.g(c, d, a, b, x11, 14, 0x265e5a51)
        b = Self.g(b, c, d, a, x0, 20, 0xe9b6c7aa)
        a = Self.g(a, b, c, d, x5, 5, 0xd62f105d)
        d = Self.g(d, a, b, c, x10, 9, 0x02441453)
        c = Self.g(c, d, a, b, x15, 14, 0xd8a1e681)
        b = Self.g(b, c, d, a, x4, 20, 0xe7d3fbc8)
        a = Self.g(a, b, c, d, x9, 5, 0x21e1cde6)
        d = Self.g(d, a, b, c, x14, 9, 0xc33707d6)
        c = Self.g(c, d, a, b, x3, 14, 0xf4d50d87)
        b = Self.g(b, c, d, a, x8, 20, 0x455a14ed)
        a = Self.g(a, b, c, d, x13, 5, 0xa9e3e905)
        d = Self.g(d, a, b, c, x2, 9, 0xfcefa3f8)
        c = Self.g(c, d, a, b, x7, 14, 0x676f02d9)
        b = Self.g(b, c, d, a, x12, 20, 0x8d2a4c8a)
        a = Self.h(a, b, c, d, x5, 4, 0xfffa3942)
        d = Self.h(d, a, b, c, x8, 11, 0x8771f681)
        c = Self.h(c, d, a, b, x11, 16, 0x6d9d6122)
        b = Self.h(b, c, d, a, x14, 23, 0xfde5380c)
        a = Self.h(a, b, c, d, x1, 4, 0xa4beea44)
        d = Self.h(d, a, b, c, x4, 11, 0x4bdecfa9)
        c = Self.h(c, d, a, b, x7, 16, 0xf6bb4b60)
        b = Self.h(b, c, d, a, x10, 23, 0xbebfbc70)
        a = Self.h(a, b, c, d, x13, 4, 0x289b7ec6)
        d = Self.h(d, a, b, c, x0, 11, 0xeaa127fa)
        c = Self.h(c, d, a, b, x3, 16, 0xd4ef3085)
        b = Self.h(b, c, d, a, x6, 23, 0x04881d05)
        a = Self.h(a, b, c, d, x9, 4, 0xd9d4d039)
        d = Self.h(d, a, b, c, x12, 11, 0xe6db99e5)
        c = Self.h(c, d, a, b, x15, 16, 0x1fa27cf8)
        b = Self.h(b, c, d, a, x2, 23, 0xc4ac5665)
        a = Self.i(a, b, c, d, x0, 6, 0xf4292244)
        d = Self.i(d, a, b, c, x7, 10, 0x432aff97)
        c = Self.i(c, d, a, b, x14, 15, 0xab9423a7)
        b = Self.i(b, c, d, a, x5, 21, 0xfc93a039)
        a = Self.i(a, b, c, d, x12, 6, 0x655b59c3)
        d = Self.i(d, a, b, c, x3, 10, 0x8f0ccc92)
        c = Self.i(c, d, a, b, x10, 15, 0xffeff47d)
        b = Self.i(b, c, d, a, x1, 21, 0x85845dd1)
        a = Self.i(a, b, c, d, x8, 6, 0x6fa87e4f)
        d = Self.i(d, a, b, c, x15, 10, 0xfe2ce6e0)
        c = Self.i(c, d, a, b, x6, 15, 0xa3014314)
        b = Self.i(b, c, d, a, x13, 21, 0x4e0811a1)
        a = Self.i(a, b, c, d, x4, 6, 0xf7537e82)
        d = Self.i(d, a, b, c, x11, 10, 0xbd3af235)
        c = Self.i(c, d, a, b, x2, 15, 0x2ad7d2bb)
        b = Self.i(b, c, d, a, x9, 21, 0xeb86d391)
            self.a &+= a
            self.b &+= b
            self.c &+= c
            self.d &+= d
        }

        @inline(__always)
        static func rotate(_ value: UInt32, _ shift: UInt32) -> UInt32 {
            (value &<< shift) | (value &>> (32 &- shift))
        }

        @inline(__always)
        static func f(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
            b &+ rotate(a &+ ((b & c) | (~b & d)) &+ x &+ t, s)
        }

        @inline(__always)
        static func g(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
            b &+ rotate(a &+ ((b & d) | (c & ~d)) &+ x &+ t, s)
        }

        @inline(__always)
        static func h(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
            b &+ rotate(a &+ (b ^ c ^ d) &+ x &+ t, s)
        }

        @inline(__always)
        static func i(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
            b &+ rotate(a &+ (c ^ (b | ~d)) &+ x &+ t, s)
        }
    }
}
