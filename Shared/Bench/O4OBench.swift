import ArgumentParser
import Foundation
import Proto
import Wire

/// The benchmark harness: baselines and service scenarios in one run, written
/// to BENCHMARKS.md. See `deploy/local/bench` for the one command that starts
/// everything and regenerates the file.
@main
struct O4OBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "o4o-bench",
        abstract: "Measure the services beside raw TCP, Redis and PostgreSQL baselines; write BENCHMARKS.md."
    )

    @Option(help: "Comma-separated scenarios to run (\(ScenarioCatalog.names.joined(separator: ",")))")
    var scenarios: String = ScenarioCatalog.names.joined(separator: ",")

    @Option(help: "Seconds measured per load run.")
    var duration: Int = 8

    @Option(help: "Seconds of warm-up per load run (discarded).")
    var warmup: Int = 2

    @Option(help: "Where to write the Markdown report.")
    var out: String = "BENCHMARKS.md"

    @Option(help: "Where to write the raw results as JSON.")
    var json: String?

    @Option(help: "Folder holding <service>.pid files, for RSS figures.")
    var pidDir: String = ".run/pids"

    @Option(help: "The command line recorded in the report.")
    var commandLine: String = "deploy/local/bench"

    func run() throws {
        let environment = BenchEnvironment.fromProcess(pidDir: pidDir)
        var report = BenchmarkReport(
            startedAt: ISO8601DateFormatter().string(from: Date()), machine: MachineInfo.collect(), command: commandLine
        )
        let context = ScenarioContext(
            environment: environment,
            warmup: .seconds(warmup), duration: .seconds(duration)
        )
        print("baseline: raw TCP")
        report.baselines.append(try Baselines.rawTCP(roundTrips: 50_000))
        if let port = environment.redisPort {
            print("baseline: redis-benchmark GET")
            report.baselines.append(try Baselines.redisGet(port: port, clients: 1, requests: 50_000))
            report.baselines.append(try Baselines.redisGet(port: port, clients: 64, requests: 200_000))
            print("baseline: TCP hop + redis GET")
            report.baselines.append(try Baselines.relayRedisGet(redisPort: port, roundTrips: 50_000))
        }
        if let url = environment.benchDatabaseURL {
            print("baseline: pgbench -S")
            report.baselines.append(try Baselines.pgbenchSelect(databaseURL: url, clients: 1, seconds: max(3, duration / 2)))
        }
        let memory = MemorySampler(environment: environment)
        memory.start()
        for name in scenarios.split(separator: ",").map(String.init) {
            guard let scenario = ScenarioCatalog.scenario(named: name) else {
                throw ValidationError("unknown scenario \(name); known: \(ScenarioCatalog.names.joined(separator: ", "))")
            }
            print("scenario: \(name)")
            try scenario.run(context, &report)
        }
        report.memory = memory.stop()
        for figure in report.memory {
            report.goals.append(GoalVerdict(
                issue: "#7", goal: "\(figure.service)-service RSS under 50 MB under load",
                measured: String(format: "idle %.1f MB, peak under load %.1f MB", figure.idleMB, figure.loadedMB),
                met: figure.loadedMB < 50
            ))
        }
        try report.markdown().write(toFile: out, atomically: true, encoding: .utf8)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // pgbench reports no percentiles: those figures are NaN.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        print("wrote \(out)")
        for goal in report.goals { print("\(goal.met ? "met    " : "NOT MET") \(goal.issue): \(goal.goal) — \(goal.measured)") }
    }
}

/// Addresses, credentials and local servers, from the environment that
/// `deploy/local/stack env` prints.
struct BenchEnvironment: Sendable {
    var addresses: [String: String]
    var credentials: [String: String]
    var redisPort: Int?
    var databaseURL: String?
    /// A scratch database for pgbench's tables, so the services' database stays clean.
    var benchDatabaseURL: String?
    var pidDir: String

    static func fromProcess(pidDir: String) -> BenchEnvironment {
        let env = ProcessInfo.processInfo.environment
        var credentials: [String: String] = [:]
        if let path = env["WIRE_CREDENTIALS_FILE"], let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") where line.contains(":") && !line.hasPrefix("#") {
                let parts = line.split(separator: ":", maxSplits: 1)
                credentials[String(parts[0])] = String(parts[1])
            }
        }
        let redisPort = env["REDIS_URL"].flatMap { URLComponents(string: $0)?.port }
        let databaseURL = env["DATABASE_URL"]
        var benchURL: String?
        if let databaseURL, var components = URLComponents(string: databaseURL) {
            components.path = "/o4o_pgbench"
            benchURL = components.string
        }
        return BenchEnvironment(
            addresses: [
                "policy": env["O4O_POLICY_ADDR"] ?? "127.0.0.1:7101",
                "gate": env["O4O_GATE_ADDR"] ?? "127.0.0.1:7102",
                "inbox": env["O4O_INBOX_ADDR"] ?? "127.0.0.1:7103",
            ],
            credentials: credentials, redisPort: redisPort, databaseURL: databaseURL,
            benchDatabaseURL: benchURL, pidDir: pidDir
        )
    }

    func client(service: String, caller: String) -> WireClient {
        var configuration = WireClientConfiguration(addresses: [addresses[service]!], credential: credentials[caller])
        configuration.defaultTimeout = .seconds(5)
        return WireClient(configuration: configuration)
    }

    func pid(of service: String) -> Int32? {
        (try? String(contentsOfFile: "\(pidDir)/\(service)-service.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

struct ScenarioContext: Sendable {
    var environment: BenchEnvironment
    var warmup: Duration
    var duration: Duration

    func generator(_ name: String, connections: Int, _ factory: @escaping LoadGenerator.OperationFactory) -> LoadGenerator {
        LoadGenerator(name: name, connections: connections, warmup: warmup, duration: duration, makeOperation: factory)
    }
}

/// A named group of measurements that appends results and goal verdicts.
struct Scenario: Sendable {
    var name: String
    var run: @Sendable (ScenarioContext, inout BenchmarkReport) throws -> Void
}

enum ScenarioCatalog {
    static let all: [Scenario] = [TransportScenario.scenario] + ServiceScenarios.all

    static var names: [String] { all.map(\.name) }

    static func scenario(named name: String) -> Scenario? { all.first { $0.name == name } }
}

/// Samples each service's RSS: once before the scenarios (idle) and every
/// 200 ms while they run, keeping the peak (under load).
final class MemorySampler: @unchecked Sendable {
    // @unchecked: `peaks` and `running` are only touched under `lock`.
    private let environment: BenchEnvironment
    private let lock = NSLock()
    private var idle: [String: Double] = [:]
    private var peaks: [String: Double] = [:]
    private var running = false
    private let services = ["gate", "inbox", "policy"]

    init(environment: BenchEnvironment) {
        self.environment = environment
    }

    func start() {
        for service in services {
            if let pid = environment.pid(of: service), let rss = MachineInfo.rssMB(pid: pid) { idle[service] = rss }
        }
        running = true
        Thread { [self] in
            while lock.withLock({ running }) {
                for service in services {
                    guard let pid = environment.pid(of: service), let rss = MachineInfo.rssMB(pid: pid) else { continue }
                    lock.withLock { peaks[service] = max(peaks[service] ?? 0, rss) }
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }.start()
    }

    func stop() -> [BenchmarkReport.MemoryFigure] {
        lock.withLock { running = false }
        return services.compactMap { service in
            guard let idleMB = idle[service] else { return nil }
            return BenchmarkReport.MemoryFigure(service: service, idleMB: idleMB, loadedMB: lock.withLock { peaks[service] } ?? idleMB)
        }
    }
}
