/// Writes the protobuf wire format for the generated encoders, into a buffer
/// sized beforehand by the generated `encodedSize`.
///
/// The output is byte-for-byte what protobuf-c packs for the same message
/// (the generated differential tests compare them): fields in number order,
/// minimal varints, proto3's implicit presence (a zero number, `false` or an
/// empty string or bytes field is not written, a present message always is),
/// negative `int32` and enum values sign-extended to ten bytes, and a string
/// cut at its first NUL, since protobuf-c reads the NUL-terminated copy the
/// generated code hands it.
///
/// It exists because the protobuf-c path first builds a C tree with one
/// allocation per sub-message and per string (two for a string: the Swift
/// `utf8CString` and the copy), then packs it: for a 10,000-item
/// `ResolveBatchRequest` over 100,000 allocations per encode.
struct ProtoWireWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0

    /// A writer filling `buffer` from its start.
    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// A new array of exactly `size` bytes, written by `body`.
    static func encode(size: Int, _ body: (inout ProtoWireWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = ProtoWireWriter(UnsafeMutableBufferPointer(rebasing: buffer[0..<size]))
            body(&writer)
            // A generator bug, never input: the size pass and the write pass disagree.
            precondition(writer.count == size, "encoded \(writer.count) bytes, sized \(size)")
            initialized = size
        }
    }

    // MARK: Sizes

    /// The length of `value` as a varint.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of seven bits; zero takes one byte.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// A varint field's size (0 when `value` is 0: not written).
    @inline(__always)
    static func varintFieldSize(keySize: Int, _ value: UInt64) -> Int {
        value == 0 ? 0 : keySize + varintSize(value)
    }

    /// A length-delimited field's size for a body of `length` bytes.
    @inline(__always)
    static func lengthDelimitedFieldSize(keySize: Int, _ length: Int) -> Int {
        keySize + varintSize(UInt64(length)) + length
    }

    /// A string field's size (0 when nothing precedes its first NUL).
    @inline(__always)
    static func stringFieldSize(keySize: Int, _ value: String) -> Int {
        let length = cStringLength(value)
        return length == 0 ? 0 : lengthDelimitedFieldSize(keySize: keySize, length)
    }

    /// A bytes field's size (0 when empty).
    @inline(__always)
    static func bytesFieldSize(keySize: Int, _ value: [UInt8]) -> Int {
        value.isEmpty ? 0 : lengthDelimitedFieldSize(keySize: keySize, value.count)
    }

    /// How many UTF-8 bytes of `value` protobuf-c sees: those before the first NUL.
    @inline(__always)
    static func cStringLength(_ value: String) -> Int {
        var value = value
        return value.withUTF8 { utf8 in utf8.firstIndex(of: 0) ?? utf8.count }
    }

    // MARK: Writing

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        precondition(count < buffer.count, "protobuf encoder overran its sized buffer")
        buffer[count] = byte
        count += 1
    }

    /// Writes a varint.
    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        append(UInt8(truncatingIfNeeded: value))
    }

    /// A varint field, skipped when `value` is 0. `key` is `field << 3 | wire type`.
    @inline(__always)
    mutating func varintField(key: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        varint(UInt64(key))
        varint(value)
    }

    /// A string field, cut at its first NUL and skipped when nothing precedes it.
    @inline(__always)
    mutating func stringField(key: UInt32, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            let length = utf8.firstIndex(of: 0) ?? utf8.count
            guard length > 0 else { return }
            varint(UInt64(key))
            varint(UInt64(length))
            raw(UnsafeBufferPointer(rebasing: utf8[0..<length]))
        }
    }

    /// A bytes field, skipped when empty.
    @inline(__always)
    mutating func bytesField(key: UInt32, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        varint(UInt64(key))
        varint(UInt64(value.count))
        value.withUnsafeBufferPointer { raw($0) }
    }

    /// The key and length of an embedded message whose body the caller writes next.
    @inline(__always)
    mutating func messageHeader(key: UInt32, length: Int) {
        varint(UInt64(key))
        varint(UInt64(length))
    }

    private mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count <= buffer.count - count, "protobuf encoder overran its sized buffer")
        guard let source = bytes.baseAddress, let target = buffer.baseAddress else { return }
        (target + count).initialize(from: source, count: bytes.count)
        count += bytes.count
    }
}
