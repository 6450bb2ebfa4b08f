public import Proto

/// Why a byte stream is not a valid sequence of frames. Any of these ends the
/// connection (after a GOAWAY naming the reason).
public struct FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The 4-byte length exceeds the receive limit; nothing was allocated for it.
        case frameTooLarge(length: UInt32, limit: Int)
        /// The frame body is not a valid `wire.v1.Frame`.
        case malformedFrame
        /// A valid `Frame` whose fields break the protocol rules (missing call id, unknown kind...).
        case protocolViolation(String)
    }

    public var code: Code

    public init(_ code: Code) {
        self.code = code
    }

    public var description: String {
        switch code {
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the \(limit)-byte limit"
        case .malformedFrame: "frame body is not a valid wire.v1.Frame"
        case .protocolViolation(let rule): "protocol violation: \(rule)"
        }
    }
}

/// Splits a received byte stream into frames: each frame is a 4-byte
/// big-endian length followed by exactly that many bytes of `wire.v1.Frame`.
///
/// It reads bytes, never sockets, so tests and the fuzzer feed it literals. The
/// declared length is checked against the limit before any buffer grows for it.
public struct FrameDecoder: Sendable {
    /// The largest frame body accepted, in bytes (default 4 MiB).
    public let maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var readerIndex = 0

    public init(maxFrameSize: Int = 4 * 1024 * 1024) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet consumed by a whole frame.
    public var bufferedByteCount: Int { buffer.count - readerIndex }

    /// The buffer's capacity (tests check what is reserved).
    var bufferCapacity: Int { buffer.capacity }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
        reserveForPendingFrame()
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Removes and returns the first `count` buffered bytes (used for the preface).
    public mutating func consume(_ count: Int) -> [UInt8] {
        let taken = Array(buffer[readerIndex..<readerIndex + min(count, bufferedByteCount)])
        readerIndex += taken.count
        return taken
    }

    /// The buffered bytes not yet consumed.
    public var pendingBytes: ArraySlice<UInt8> { buffer[readerIndex...] }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func nextFrame() throws(FrameError) -> WireV1.Frame? {
        guard bufferedByteCount >= 4 else { return nil }
        let length = buffer.withUnsafeBytes { raw in
            UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: readerIndex, as: UInt32.self))
        }
        guard Int(length) <= maxFrameSize else {
            throw FrameError(.frameTooLarge(length: length, limit: maxFrameSize))
        }
        guard bufferedByteCount >= 4 + Int(length) else { return nil }
        let start = readerIndex + 4
        let frame: WireV1.Frame
        do {
            frame = try buffer.withUnsafeBytes { raw throws(ProtoDecodingError) in
                try WireV1.Frame(serializedBytes: UnsafeRawBufferPointer(rebasing: raw[start..<start + Int(length)]))
            }
        } catch {
            throw FrameError(.malformedFrame)
        }
        readerIndex = start + Int(length)
        try Self.validate(frame)
        return frame
    }

    /// The per-kind rules of PROTOCOL.md that protobuf decoding cannot check.
    static func validate(_ frame: WireV1.Frame) throws(FrameError) {
        switch frame.kind {
        case .unspecified:
            throw FrameError(.protocolViolation("frame kind is missing or unknown"))
        case .request:
            guard frame.callId != 0 else { throw FrameError(.protocolViolation("REQUEST without call_id")) }
        case .response, .cancel:
            guard frame.callId != 0 else { throw FrameError(.protocolViolation("\(frame.kind) without call_id")) }
        case .ping, .pong:
            guard frame.payload.count <= 64 else {
                throw FrameError(.protocolViolation("PING payload longer than 64 bytes"))
            }
        case .goaway:
            break
        }
    }

    /// Once the next frame's length is known (and within the limit), makes
    /// room for all of it at once. A multi-megabyte frame arrives in 64 KiB
    /// reads; growing by appends would reallocate and copy the buffer about
    /// six times, each into fresh pages. An oversized length reserves
    /// nothing: ``nextFrame()`` refuses it.
    private mutating func reserveForPendingFrame() {
        guard bufferedByteCount >= 4 else { return }
        let length = buffer.withUnsafeBytes { raw in
            UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: readerIndex, as: UInt32.self))
        }
        guard Int(length) <= maxFrameSize else { return }
        let needed = 4 + Int(length)
        // Small frames keep the usual growth: they fit a read or two, and
        // exact-size buffers would shrink the one pipelined frames share.
        guard needed > Self.exactReservationThreshold, readerIndex + needed > buffer.capacity else { return }
        // Move what is left to the front while growing: one copy of the
        // bytes received so far, none of the consumed ones.
        var grown = [UInt8]()
        grown.reserveCapacity(needed)
        grown.append(contentsOf: buffer[readerIndex...])
        buffer = grown
        readerIndex = 0
    }

    /// Frames larger than this (a socket read's worth) get their whole size reserved up front.
    static let exactReservationThreshold = 64 * 1024

    private mutating func compactIfWorthwhile() {
        if readerIndex > 0 && readerIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            readerIndex = 0
        } else if readerIndex > 4096 && readerIndex * 2 > buffer.count {
            buffer.removeSubrange(0..<readerIndex)
            readerIndex = 0
        }
    }
}

/// Turns frames into bytes on the wire.
public enum FrameEncoder {
    /// The 4-byte big-endian length followed by the frame's protobuf encoding.
    public static func encode(_ frame: WireV1.Frame) -> [UInt8] {
        let body = frame.serializedBytes()
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + body.count)
        let length = UInt32(body.count)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(contentsOf: body)
        return bytes
    }

    /// The bytes of a RESPONSE frame with status OK carrying `payload`,
    /// exactly as ``encode(_:)`` writes `Frame(kind: .response, callId:
    /// callId, payload: payload)`, but written directly: every successful
    /// call ends with one, and going through protobuf-c costs a message
    /// tree, a packed-size pass and two copies of the payload.
    ///
    /// Fields in field-number order, proto3 defaults left out (as
    /// protobuf-c packs them): `kind` (1), `call_id` (2, when not 0),
    /// `payload` (8, when not empty).
    public static func encodeOKResponse(callId: UInt64, payload: [UInt8]) -> [UInt8] {
        var bytes = okResponseHeader(callId: callId, payloadCount: payload.count, reservingPayload: true)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// The bytes of ``encodeOKResponse(callId:payload:)`` that come before
    /// the payload: the length prefix, `kind`, `call_id` and the payload's
    /// tag and length (at most 28 bytes). Sending this and then the payload
    /// as it is puts the same frame on the wire without copying a large
    /// payload into a second buffer.
    public static func okResponseHeader(callId: UInt64, payloadCount: Int) -> [UInt8] {
        okResponseHeader(callId: callId, payloadCount: payloadCount, reservingPayload: false)
    }

    private static func okResponseHeader(callId: UInt64, payloadCount: Int, reservingPayload: Bool) -> [UInt8] {
        var bodyLength = 2
        if callId != 0 { bodyLength += 1 + varintLength(callId) }
        if payloadCount > 0 { bodyLength += 1 + varintLength(UInt64(payloadCount)) + payloadCount }
        var bytes = [UInt8]()
        bytes.reserveCapacity(reservingPayload ? 4 + bodyLength : 4 + bodyLength - payloadCount)
        let length = UInt32(bodyLength)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(0x08)  // field 1 (kind), varint
        bytes.append(UInt8(WireV1.FrameKind.response.rawValue))
        if callId != 0 {
            bytes.append(0x10)  // field 2 (call_id), varint
            appendVarint(callId, to: &bytes)
        }
        if payloadCount > 0 {
            bytes.append(0x42)  // field 8 (payload), length-delimited
            appendVarint(UInt64(payloadCount), to: &bytes)
        }
        return bytes
    }

    static func varintLength(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
