// Drives the frame and header decoder with arbitrary bytes: the preface check,
// the length-prefix framing, protobuf-c decoding of wire.v1.Frame and the
// per-kind rules. Any crash, hang or sanitizer report is a bug.
//
// Built twice: by Tests/Fuzz/run-fuzz.sh with `-sanitize=fuzzer -DFUZZING`
// (libFuzzer supplies main), and in ordinary builds as a replayer that runs
// the files named on its command line through the same entry point.
import Proto
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = WirePreface.check(bytes)
    var decoder = FrameDecoder(maxFrameSize: 64 * 1024)
    // Feed in two uneven pieces so split frames are exercised too.
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    decoder.append(Array(bytes[..<split]))
    var frames = 0
    do {
        while let frame = try decoder.nextFrame() {
            frames += 1
            // Re-encoding what decoded must decode to the same frame.
            var again = FrameDecoder(maxFrameSize: 64 * 1024)
            again.append(FrameEncoder.encode(frame))
            let reencoded = try again.nextFrame()
            precondition(reencoded == frame, "re-encoded frame differs")
        }
        decoder.append(Array(bytes[split...]))
        while try decoder.nextFrame() != nil { frames += 1 }
    } catch {
        return 0
    }
    return 0
}

#if FUZZING
/// libFuzzer's driver, exported by its runtime.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// SwiftPM links executables with `main` aliased to `<module>_main`; here that
/// entry point hands control to libFuzzer.
@_cdecl("WireFuzz_main")
func wireFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzWireDecoder)
}
#else
import Foundation

@main
struct WireFuzzReplayer {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = data.withUnsafeBytes { fuzzWireDecoder($0.bindMemory(to: UInt8.self).baseAddress, data.count) }
            print("replayed \(path)")
        }
    }
}
#endif
