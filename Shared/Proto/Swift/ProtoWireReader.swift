/// Reads the protobuf wire format for the generated decoders' fast path.
///
/// protobuf-c stays the codec of the contract: a generated decoder reads a
/// message with this reader only while the bytes are in the plain form every
/// encoder writes (one-byte keys of known fields with their declared wire
/// type, each singular field at most once, varints that fit 64 bits, minimal
/// length prefixes, strings without NUL). At the first byte outside that form
/// every method returns nil and the decoder hands the whole message to
/// protobuf-c, which decides — with its own rules for duplicates, unknown
/// fields, overlong varints and malformed bytes. So a fast decode either
/// yields exactly what protobuf-c and the generated conversion would, or
/// nothing (the generated differential tests check both sides).
///
/// The fast path exists because protobuf-c allocates every sub-message and
/// string separately (then frees them all again after the Swift copy): for a
/// 10,000-result `ResolveBatchResponse` that was over 200,000 malloc/free
/// pairs per decode.
struct ProtoWireReader {
    fileprivate let bytes: UnsafeRawBufferPointer
    fileprivate var index = 0

    /// A reader over `bytes`, which must outlive it.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// True when every byte was read.
    var isAtEnd: Bool { index >= bytes.count }

    /// The next field's key byte (`field << 3 | wire type`), or nil when the
    /// key does not fit one byte (field numbers above 15, or an overlong key).
    @inline(__always)
    mutating func key() -> UInt8? {
        let byte = bytes[index]
        guard byte & 0x80 == 0 else { return nil }
        index += 1
        return byte
    }

    /// A varint of at most ten bytes whose value fits 64 bits (protobuf-c
    /// silently drops bits beyond 64; such bytes are left to it).
    @inline(__always)
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if shift == 63 {
                // The tenth byte may only carry bit 63.
                guard byte <= 1 else { return nil }
                return value | UInt64(byte) << 63
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// The body of a length-delimited field: a minimal length prefix of at
    /// most four bytes (under 256 MiB, far above any frame limit) that fits
    /// the bytes left.
    @inline(__always)
    mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
        var length = 0
        var shift = 0
        var prefixBytes = 0
        while true {
            guard index < bytes.count, prefixBytes < 4 else { return nil }
            let byte = bytes[index]
            index += 1
            prefixBytes += 1
            length |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A non-minimal prefix (a trailing zero group) is left to protobuf-c.
                guard byte != 0 || prefixBytes == 1 else { return nil }
                break
            }
            shift += 7
        }
        guard length <= bytes.count - index else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[index..<index + length])
        index += length
        return body
    }

    /// A string field's value. The generated conversion reads protobuf-c's
    /// NUL-terminated copy, which cuts a string at its first NUL: a string
    /// holding one is left to that path. Invalid UTF-8 is repaired with
    /// U+FFFD exactly as `String(cString:)` repairs it.
    @inline(__always)
    mutating func string() -> String? {
        guard let body = lengthDelimited() else { return nil }
        let utf8 = body.assumingMemoryBound(to: UInt8.self)
        for byte in utf8 where byte == 0 { return nil }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// A bytes field's value.
    @inline(__always)
    mutating func bytesValue() -> [UInt8]? {
        guard let body = lengthDelimited() else { return nil }
        return [UInt8](body.assumingMemoryBound(to: UInt8.self))
    }
}

extension ProtoWireReader {
    /// How many fields with key byte `key` follow, counted without reading
    /// them, so a repeated field's array is sized once. Stops at the first
    /// byte outside the plain form (the count is then a lower bound: the
    /// decode itself gives up there).
    func countFields(key wanted: UInt8) -> Int {
        var scan = self
        var count = 0
        while !scan.isAtEnd, let key = scan.key() {
            if key == wanted { count += 1 }
            switch key & 7 {
            case 0: guard scan.varint() != nil else { return count }
            case 1: guard scan.skip(8) else { return count }
            case 2: guard scan.lengthDelimited() != nil else { return count }
            case 5: guard scan.skip(4) else { return count }
            default: return count
            }
        }
        return count
    }

    /// Skips `count` bytes; false when fewer are left.
    private mutating func skip(_ count: Int) -> Bool {
        guard count <= bytes.count - index else { return false }
        index += count
        return true
    }
}
