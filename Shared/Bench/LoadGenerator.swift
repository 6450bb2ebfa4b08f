import Foundation
import Histogram
import Synchronization
import Storage
import Wire

/// The figures of one load run. Latencies are microseconds.
struct LoadResult: Codable, Sendable {
    var name: String
    var mode: String
    var connections: Int
    var offeredRate: Double?
    var achievedRate: Double
    var calls: UInt64
    var errors: UInt64
    var p50: Double
    var p90: Double
    /// Measured by the load generator; nil for baselines that do not report it.
    var p95: Double? = nil
    var p99: Double
    var p999: Double
    var max: Double
    var firstError: String?
    /// CPU seconds (user + system) the o4o-bench process used during the run,
    /// warm-up included: the cost of the load generator itself. Nil for baselines.
    var clientCPUSeconds: Double? = nil
}

extension LoadResult {
    /// The figures of a run whose calls were due within a measured window of `duration`.
    init(
        name: String, mode: String, connections: Int, offeredRate: Double?, duration: Duration,
        histogram: Histogram<UInt64>, errors: UInt64, firstError: String?, clientCPUSeconds: Double?
    ) {
        let seconds = Double(duration.microsecondsValue) / 1e6
        self.init(
            name: name, mode: mode, connections: connections, offeredRate: offeredRate,
            achievedRate: Double(histogram.totalCount) / seconds, calls: histogram.totalCount, errors: errors,
            p50: Double(histogram.valueAtPercentile(50)), p90: Double(histogram.valueAtPercentile(90)),
            p95: Double(histogram.valueAtPercentile(95)), p99: Double(histogram.valueAtPercentile(99)),
            p999: Double(histogram.valueAtPercentile(99.9)), max: Double(histogram.max), firstError: firstError,
            clientCPUSeconds: clientCPUSeconds
        )
    }

    /// One console line: rate, latencies, errors and what the run cost the load generator.
    var summaryLine: String {
        var line = "  \(name): \(Int(achievedRate)) calls/s, p50 \(Int(p50)) µs, p95 \(Int(p95 ?? p99)) µs, p99 \(Int(p99)) µs, \(errors) errors"
        if let clientCPUSeconds { line += String(format: ", o4o-bench CPU %.2f s", clientCPUSeconds) }
        if let firstError { line += " (first: \(firstError))" }
        return line
    }
}

/// Drives an operation with many workers, each owning its own connection.
///
/// Open loop: calls are scheduled at a fixed offered rate and each latency is
/// measured from the call's *intended* start, so a stall counts against every
/// call it delayed (no coordinated omission). Closed loop: each worker calls
/// back to back, for peak throughput. A warm-up is run and discarded.
struct LoadGenerator {
    /// Builds a worker's operation; called once per worker (it makes its own client).
    typealias OperationFactory = @Sendable (_ worker: Int) throws -> (@Sendable () throws -> Void)

    var name: String
    var connections: Int
    var warmup: Duration
    var duration: Duration
    var makeOperation: OperationFactory

    func runClosedLoop() throws -> LoadResult {
        try run(rate: nil)
    }

    func runOpenLoop(rate: Double) throws -> LoadResult {
        try run(rate: rate)
    }

    private func run(rate: Double?) throws -> LoadResult {
        let operations = try (0..<connections).map { try makeOperation($0) }
        let cpuBefore = ProcessCPU.now()
        let recorders = (0..<connections).map { _ in WorkerRecorder() }
        let start = Deadline.after(micros: 50_000)
        let measureFrom = Deadline(uptimeNanoseconds: start.uptimeNanoseconds + UInt64(warmup.microsecondsValue) * 1000)
        let end = Deadline(uptimeNanoseconds: measureFrom.uptimeNanoseconds + UInt64(duration.microsecondsValue) * 1000)
        let group = DispatchGroup()
        for worker in 0..<connections {
            group.enter()
            let operation = operations[worker]
            let recorder = recorders[worker]
            let perWorkerInterval: UInt64? = rate.map { UInt64(1e9 / ($0 / Double(connections))) }
            let thread = Thread {
                defer { group.leave() }
                // Stagger open-loop workers so their schedules interleave.
                var intended = start.uptimeNanoseconds + (perWorkerInterval.map { $0 * UInt64(worker) / UInt64(connections) } ?? 0)
                while true {
                    let now = Deadline.now().uptimeNanoseconds
                    if now >= end.uptimeNanoseconds { return }
                    if perWorkerInterval != nil {
                        if intended > now { usleep(UInt32((intended - now) / 1000)) }
                    } else {
                        intended = now
                    }
                    let measuring = intended >= measureFrom.uptimeNanoseconds
                    do {
                        try operation()
                        if measuring { recorder.record(micros: (Deadline.now().uptimeNanoseconds - intended) / 1000) }
                    } catch {
                        if measuring { recorder.fail("\(error)") }
                    }
                    if let interval = perWorkerInterval { intended += interval }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let cpu = ProcessCPU.now().seconds(since: cpuBefore)
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var errors: UInt64 = 0
        var firstError: String?
        for recorder in recorders {
            recorder.merge(into: &merged, errors: &errors, firstError: &firstError)
        }
        let result = LoadResult(
            name: name, mode: rate == nil ? "closed" : "open", connections: connections, offeredRate: rate, duration: duration,
            histogram: merged, errors: errors, firstError: firstError, clientCPUSeconds: cpu
        )
        print(result.summaryLine)
        return result
    }
}

/// One worker's histogram; only its worker writes until the run ends.
final class WorkerRecorder: @unchecked Sendable {
    // @unchecked: written by one worker thread, read after DispatchGroup.wait().
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    private var errors: UInt64 = 0
    private var firstError: String?

    func record(micros: UInt64) {
        _ = histogram.record(min(micros, 60_000_000))
    }

    func fail(_ description: String) {
        errors += 1
        if firstError == nil { firstError = description }
    }

    func merge(into merged: inout Histogram<UInt64>, errors total: inout UInt64, firstError first: inout String?) {
        merged.add(histogram)
        total += errors
        if first == nil { first = firstError }
    }

    /// The figures of a run that only this recorder saw.
    func result(
        name: String, mode: String, connections: Int, offeredRate: Double?, duration: Duration, clientCPUSeconds: Double?
    ) -> LoadResult {
        LoadResult(
            name: name, mode: mode, connections: connections, offeredRate: offeredRate, duration: duration,
            histogram: histogram, errors: errors, firstError: firstError, clientCPUSeconds: clientCPUSeconds
        )
    }
}

/// User plus system CPU time of this whole process.
struct ProcessCPU {
    var user: Double
    var system: Double

    static func now() -> ProcessCPU {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ProcessCPU(user: seconds(usage.ru_utime), system: seconds(usage.ru_stime))
    }

    /// Total CPU seconds used since `earlier`.
    func seconds(since earlier: ProcessCPU) -> Double {
        (user - earlier.user) + (system - earlier.system)
    }
}

extension Duration {
    var microsecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
