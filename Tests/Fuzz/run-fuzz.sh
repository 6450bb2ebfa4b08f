#!/usr/bin/env bash
# Builds the wire decoder fuzzer with libFuzzer and runs it.
#   Tests/Fuzz/run-fuzz.sh --bounded     30 s run from the seed corpus (the test command uses this)
#   Tests/Fuzz/run-fuzz.sh [libFuzzer args]   e.g. -max_total_time=600
# Crashing inputs land in fuzz-artifacts/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${O4O_FUZZ_SECONDS:-30}
args=("$@")
if [ "${1:-}" = "--bounded" ]; then args=("-max_total_time=$seconds"); fi
swift build --scratch-path .build-fuzz --product wire-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -parse-as-library >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Tests/Fuzz/corpus/* "$work/"
mkdir -p fuzz-artifacts
.build-fuzz/debug/wire-fuzz -artifact_prefix=fuzz-artifacts/ -max_len=4096 "${args[@]}" "$work" 2>&1 | tail -n 5
echo "wire-fuzz: no crash"
