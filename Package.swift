// swift-tools-version:6.1
import PackageDescription

/// One settings list for every Swift target: warnings are fixed, not silenced.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "o4o-authorization-suite",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "policy-service", targets: ["PolicyServiceMain"]),
        .executable(name: "gate-service", targets: ["GateServiceMain"]),
        .executable(name: "inbox-service", targets: ["InboxServiceMain"]),
        .executable(name: "o4octl", targets: ["O4OCtl"]),
        .executable(name: "o4o-bench", targets: ["O4OBench"]),
        .executable(name: "wire-fuzz", targets: ["WireFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // MARK: C libraries (Debian 12 packages)
        .systemLibrary(
            name: "CProtobufC",
            path: "Shared/Proto/CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            path: "Shared/Storage/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Shared/Storage/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // MARK: The contract
        .target(
            name: "ProtoC",
            dependencies: ["CProtobufC"],
            path: "Shared/Proto/ProtoC",
            sources: ["src"],
            publicHeadersPath: "include"
        ),
        .target(
            name: "Proto",
            dependencies: ["ProtoC", "CProtobufC"],
            path: "Shared/Proto/Swift",
            swiftSettings: swiftSettings
        ),

        // MARK: Shared runtime
        .target(
            name: "CWireSystem",
            path: "Shared/Wire/CWireSystem"
        ),
        .target(
            name: "Wire",
            dependencies: ["CWireSystem", "Proto", "Storage", log, metrics],
            path: "Shared/Wire/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Storage",
            dependencies: ["CLibPQ", "CHiredis", log],
            path: "Shared/Storage/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Wire", "Storage", "Proto", log, metrics,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            path: "Shared/ServiceKit",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Catalog",
            dependencies: ["Storage", "ServiceKit"],
            path: "Shared/Catalog",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),

        // MARK: PolicyService
        .target(
            name: "PolicyCore",
            path: "Services/PolicyService/Sources/PolicyCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PolicyService",
            dependencies: ["PolicyCore", "Wire", "Proto", "Storage", "ServiceKit", "Catalog", log, metrics],
            path: "Services/PolicyService/Sources/PolicyService",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PolicyServiceMain",
            dependencies: ["PolicyService", "ServiceKit"],
            path: "Services/PolicyService/Sources/PolicyServiceMain",
            swiftSettings: swiftSettings
        ),

        // MARK: GateService
        .target(
            name: "GateCore",
            path: "Services/GateService/Sources/GateCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GateService",
            dependencies: ["GateCore", "Wire", "Proto", "Storage", "ServiceKit", log, metrics],
            path: "Services/GateService/Sources/GateService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GateServiceMain",
            dependencies: ["GateService", "ServiceKit", "Catalog"],
            path: "Services/GateService/Sources/GateServiceMain",
            swiftSettings: swiftSettings
        ),

        // MARK: InboxService
        .target(
            name: "InboxCore",
            path: "Services/InboxService/Sources/InboxCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InboxService",
            dependencies: [
                "InboxCore", "GateCore", "Wire", "Proto", "Storage", "ServiceKit", "Catalog", log, metrics,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/InboxService/Sources/InboxService",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "InboxServiceMain",
            dependencies: ["InboxService", "ServiceKit"],
            path: "Services/InboxService/Sources/InboxServiceMain",
            swiftSettings: swiftSettings
        ),

        // MARK: Tools
        .executableTarget(
            name: "O4OCtl",
            dependencies: ["Wire", "Proto", "Catalog", "Storage", "ServiceKit", argumentParser],
            path: "Shared/CLI",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "O4OBench",
            dependencies: [
                "Wire", "CWireSystem", "Proto", "Storage", "PolicyCore", argumentParser,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Shared/Bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WireFuzz",
            dependencies: ["Wire"],
            path: "Tests/Fuzz/WireFuzz",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: ["Wire", "Proto", "Storage", "ServiceKit"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ProtoTests", dependencies: ["Proto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CLITests",
            dependencies: ["O4OCtl", "Proto", "Wire", argumentParser],
            exclude: ["smoke-test.sh", "end-to-end.sh"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Proto", "Storage", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "ServiceKit", "Catalog", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: ["ServiceKit", "Catalog", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PolicyCoreTests", dependencies: ["PolicyCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PolicyServiceTests",
            dependencies: ["PolicyService", "Catalog", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "GateCoreTests", dependencies: ["GateCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GateServiceTests",
            dependencies: ["GateService", "InboxService", "Catalog", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "InboxCoreTests", dependencies: ["InboxCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "InboxServiceTests",
            dependencies: ["InboxService", "GateService", "Catalog", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
