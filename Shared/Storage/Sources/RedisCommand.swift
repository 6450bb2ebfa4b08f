/// One Redis command: its arguments, binary safe, laid out in one buffer.
///
/// Build it from strings (`["SET", key, value]`, also as an array literal) or raw bytes.
public struct RedisCommand: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// All arguments back to back.
    private(set) var buffer: [UInt8] = []
    /// The length of each argument in `buffer`.
    private(set) var lengths: [Int] = []

    /// A command from text arguments (sent as their UTF-8 bytes).
    public init(_ arguments: [String]) {
        for argument in arguments { append(argument) }
    }

    /// A command from byte arguments.
    public init(bytes arguments: [[UInt8]]) {
        for argument in arguments { append(bytes: argument) }
    }

    public init(arrayLiteral elements: String...) {
        self.init(elements)
    }

    /// Adds a text argument.
    public mutating func append(_ argument: String) {
        let start = buffer.count
        buffer.append(contentsOf: argument.utf8)
        lengths.append(buffer.count - start)
    }

    /// Adds a byte argument.
    public mutating func append(bytes argument: [UInt8]) {
        buffer.append(contentsOf: argument)
        lengths.append(argument.count)
    }

    /// The number of arguments, the command name included.
    public var count: Int { lengths.count }

    /// Calls `body` with hiredis's `argc`, `argv` and `argvlen` for this command.
    ///
    /// Callers reject empty commands first; hiredis needs at least the command name.
    func withArgv<T>(_ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T) -> T {
        func call(base: UnsafePointer<UInt8>) -> T {
            let characters = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(lengths.count + 1)
            var offset = 0
            for length in lengths {
                pointers.append(characters.advanced(by: offset))
                offset += length
            }
            // A trailing element keeps both buffers non-empty, so their base addresses exist.
            pointers.append(nil)
            var argumentLengths = lengths
            argumentLengths.append(0)
            return pointers.withUnsafeMutableBufferPointer { argv in
                argumentLengths.withUnsafeBufferPointer { argvlen in
                    body(Int32(lengths.count), argv.baseAddress.unsafelyUnwrapped, argvlen.baseAddress.unsafelyUnwrapped)
                }
            }
        }
        // Only zero-length arguments: hiredis still needs a valid address to read 0 bytes from.
        let storage = buffer.isEmpty ? [0] : buffer
        return storage.withUnsafeBufferPointer { call(base: $0.baseAddress.unsafelyUnwrapped) }
    }
}
