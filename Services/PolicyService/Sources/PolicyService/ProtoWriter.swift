/// Appends protobuf wire-format fields to a byte buffer, with proto3's rules
/// for implicit presence: a zero number or an empty string is not written.
///
/// It exists for the one response whose size makes the generated encoder the
/// bottleneck (``ResolutionEncoder``): the generated wrappers build a
/// protobuf-c tree with several C allocations per message before packing it,
/// where this writes each field straight into one buffer. Output is
/// byte-for-byte what protobuf-c produces for the same message (fields in
/// number order, minimal varints), which the tests check against the
/// generated encoder.
struct ProtoWriter {
    /// The wire types this writer emits.
    enum WireType: UInt8 {
        case varint = 0
        case lengthDelimited = 2
    }

    /// The encoded bytes so far.
    private(set) var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the bytes written, keeping the buffer's capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes a field key (field number and wire type).
    @inline(__always)
    mutating func key(_ field: UInt32, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// Writes a base-128 varint, least significant group first.
    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// An `int64` field; negative values take ten bytes, as protobuf specifies.
    mutating func int64(_ field: UInt32, _ value: Int64) {
        guard value != 0 else { return }
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A `uint32` field.
    mutating func uint32(_ field: UInt32, _ value: UInt32) {
        guard value != 0 else { return }
        key(field, .varint)
        varint(UInt64(value))
    }

    /// An enum field: its number, sign-extended like an `int32`.
    mutating func enumeration(_ field: UInt32, _ rawValue: Int32) {
        guard rawValue != 0 else { return }
        key(field, .varint)
        varint(UInt64(bitPattern: Int64(rawValue)))
    }

    /// A `string` field.
    ///
    /// The generated encoder hands protobuf-c a NUL-terminated copy, so a
    /// string is cut at its first NUL there; this does the same, so both
    /// encoders agree on every input (strings reaching the service never hold
    /// a NUL: they arrive as C strings or PostgreSQL text).
    mutating func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        var value = value
        value.withUTF8 { utf8 in
            let length = utf8.firstIndex(of: 0) ?? utf8.count
            guard length > 0 else { return }
            key(field, .lengthDelimited)
            varint(UInt64(length))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<length]))
        }
    }

    /// An embedded message field whose encoding is `body` (written even when
    /// `body` is empty: a present message is not a default value).
    mutating func message(_ field: UInt32, _ body: some Collection<UInt8>) {
        key(field, .lengthDelimited)
        varint(UInt64(body.count))
        bytes.append(contentsOf: body)
    }
}
