#!/usr/bin/env bash
# Imports and searches N generated tips in a scratch vault and prints the times (SECURITY.md
# §10; the issue "Offline review"). Not a test: the numbers depend on the machine.
#
#   Benchmarks/vault-bench.sh [N]        N defaults to 100000
#
# Builds tipdesk-bench in release mode (optimised, as a reviewer's tipdesk would be) and runs
# it under a time limit (BENCH_TIMEOUT seconds, default 900), so a slow machine gets an answer
# or a clear stop, never a hang. BENCH_SCRATCH=DIR builds in DIR instead of .build (a release
# build takes a while; this keeps it from holding the lock on the shared build directory).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
LIMIT="${BENCH_TIMEOUT:-900}"
build=(swift build -c release)
if [ -n "${BENCH_SCRATCH:-}" ]; then build+=(--scratch-path "$BENCH_SCRATCH"); fi
"${build[@]}" --product tipdesk-bench >&2
exec timeout "$LIMIT" "$("${build[@]}" --show-bin-path)/tipdesk-bench" "$N"
