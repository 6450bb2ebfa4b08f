import CProtobufC

/// A message of the suite's contract, backed by the protobuf-c code that
/// `Shared/Proto/generate.sh` generates.
///
/// Values are plain Swift structs; the C structs exist only for the duration of
/// one `serializedBytes()` or `init(serializedBytes:)` call.
public protocol ProtoMessage: Sendable, Equatable {
    /// A message with every field at its proto3 default.
    init()
    /// Decodes a message. The buffer must hold exactly one message: protobuf-c
    /// accepts a message cut at a field boundary, so framing supplies the exact length.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)
    /// The protobuf wire encoding of this message.
    func serializedBytes() -> [UInt8]
}

extension ProtoMessage {
    /// Decodes a message from a byte array.
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        let decoded: Result<Self, ProtoDecodingError> = bytes.withUnsafeBytes { raw in
            do throws(ProtoDecodingError) {
                return .success(try Self(serializedBytes: raw))
            } catch {
                return .failure(error)
            }
        }
        self = try decoded.get()
    }
}

/// protobuf-c rejected the bytes. It gives no detail beyond "not a valid
/// encoding of this message", so neither can we.
public struct ProtoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The full protobuf name of the message that failed to decode.
    public var messageName: String

    public init(messageName: String) {
        self.messageName = messageName
    }

    public var description: String { "malformed \(messageName) message" }
}

/// Owns every C allocation made while building one protobuf-c message tree and
/// frees them together. Used only inside a single call, never shared.
final class ProtoArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {
        allocations.reserveCapacity(8)
    }

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }

    func allocate<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A NUL-terminated copy of `value`.
    func string(_ value: String) -> UnsafeMutablePointer<CChar>? {
        var utf8 = value.utf8CString
        let count = utf8.count
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: count)
        utf8.withUnsafeMutableBufferPointer { source in
            pointer.initialize(from: source.baseAddress!, count: count)
        }
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        return ProtobufCBinaryData(len: value.count, data: array(value))
    }

    /// A C array holding `values`, or nil when there are none.
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        values.withUnsafeBufferPointer { source in
            pointer.initialize(from: source.baseAddress!, count: values.count)
        }
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: data.len))
    }
}
