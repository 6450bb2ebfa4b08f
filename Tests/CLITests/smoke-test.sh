#!/usr/bin/env bash
# Tests o4octl's pure parts (argument -> request mapping, output rendering,
# time and money parsing) with swift-testing, without touching Package.swift:
# the CLI is an executable target and Package.swift declares no CLITests
# target, so this script builds a scratch package OUTSIDE the repo whose
# manifest is the repo's with the CLI turned into a library, plus the tests
# and a stub server for end-to-end runs (see Shared/CLI/README.md).
#
#   Tests/CLITests/smoke-test.sh            # unit tests
#   Tests/CLITests/smoke-test.sh --stub     # also builds the stub server and prints its path
#
# Environment: SCRATCH (default /tmp/scratch-o4octl).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="${SCRATCH:-/tmp/scratch-o4octl}"
mkdir -p "$scratch"
for folder in Shared Services Tests; do ln -sfn "$repo/$folder" "$scratch/$folder"; done
{
  cat "$repo/Package.swift"
  cat <<'SWIFT'

// MARK: Scratch additions (Tests/CLITests/smoke-test.sh)
let cliDependencies: [Target.Dependency] = ["Wire", "Proto", "Catalog", "Storage", "ServiceKit", argumentParser]
let kept: Set<String> = [
    "CProtobufC", "CHiredis", "CLibPQ", "ProtoC", "Proto", "CWireSystem", "Wire", "Storage", "ServiceKit", "Catalog",
]
package.targets.removeAll { !kept.contains($0.name) }
package.products.removeAll()
package.targets += [
    .target(name: "O4OCtl", dependencies: cliDependencies, path: "Shared/CLI", exclude: ["O4OCtl.swift", "README.md"], swiftSettings: swiftSettings),
    .testTarget(name: "CLITests", dependencies: ["O4OCtl", "Proto", "Wire", argumentParser], path: "Tests/CLITests", exclude: ["smoke-test.sh"], swiftSettings: swiftSettings),
    .executableTarget(name: "CLIStubServer", dependencies: ["Wire", "Proto", "Storage", "ServiceKit", log], path: "Tests/CLIStubServer", swiftSettings: swiftSettings),
]
SWIFT
} > "$scratch/Package.swift"
cd "$scratch"
swift test 2>&1 | grep -v "prohibited flag"
if [[ "${1:-}" == "--stub" ]]; then
  swift build --product CLIStubServer 2>&1 | grep -v "prohibited flag" | tail -1
  echo "stub server: $(swift build --show-bin-path)/CLIStubServer"
fi
