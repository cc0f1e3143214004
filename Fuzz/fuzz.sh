#!/usr/bin/env bash
# Coverage-guided fuzzing of TipCore's parsers of outside input with libFuzzer and
# AddressSanitizer (Tests/Fuzz/README.md).
#
#   bash Fuzz/fuzz.sh [SECONDS]      build, then fuzz each target for SECONDS (default 10)
#   FUZZ_TARGETS="form bundle" bash Fuzz/fuzz.sh 60      only some targets
#
# Builds with swiftc into .build-fuzz/ (never `swift build`: TipCore needs only Foundation).
# Seeds: Tests/Fuzz/corpus/<target>/ (committed, read only); what libFuzzer finds on top goes to
# .build-fuzz/corpus/<target>/. A crash, timeout or out-of-memory is saved to
# Tests/Fuzz/crashers/<target>/, and saved crashers are replayed first, so one stays a failure
# until the bug is fixed (and made a regression test). Exits non-zero if any target failed.
set -uo pipefail

SECS=${1:-10}
[[ "$SECS" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/.build-fuzz
TARGETS=${FUZZ_TARGETS:-submission pow form keyring signed bundle ack tipdoc forward plain language}
BIN=$OUT/tipcore-fuzz

mkdir -p "$OUT/logs"
cd "$OUT" || exit 1

# TipCore as its own instrumented module, then the harness linked against it with libFuzzer's
# main. Testing is enabled only so the `plain` target can reach the internal fast readers;
# every other target uses public API alone, as the server and desk do.
start=$(date +%s)
SWIFTFLAGS=(-O -g "-sanitize=fuzzer,address" -parse-as-library)
if ! swiftc "${SWIFTFLAGS[@]}" -wmo -enable-testing -emit-module -emit-library -static -module-name TipCore \
      -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
      -emit-module-path "$OUT/TipCore.swiftmodule" -o "$OUT/libTipCore.a" "$ROOT"/Sources/TipCore/*.swift \
      >"$OUT/logs/build.log" 2>&1 \
   || ! swiftc "${SWIFTFLAGS[@]}" -module-name TipCoreFuzz -I "$OUT" -L "$OUT" -lTipCore \
      "$ROOT/Fuzz/Harness.swift" -o "$BIN" >>"$OUT/logs/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$OUT/logs/build.log" >&2
    echo "fuzz: build failed" >&2
    echo "fuzz: 0 passed, $(wc -w <<<"$TARGETS") failed"
    exit 1
fi
echo "fuzz: built in $(( $(date +%s) - start ))s"

passed=0
failed=0
for t in $TARGETS; do
    seeds=$ROOT/Tests/Fuzz/corpus/$t
    crashers=$ROOT/Tests/Fuzz/crashers/$t
    work=$OUT/corpus/$t
    log=$OUT/logs/$t.log
    mkdir -p "$seeds" "$crashers" "$work"
    ok=1

    # Regression: every saved crasher must now run clean.
    mapfile -t saved < <(find "$crashers" -type f ! -name '.*' | sort)
    if (( ${#saved[@]} )); then
        if ! FUZZ_TARGET=$t "$BIN" -rss_limit_mb=2048 -timeout=10 "${saved[@]}" >"$OUT/logs/$t.replay.log" 2>&1; then
            echo "fuzz: $t: a saved crasher in ${crashers#"$ROOT"/} still fails (see ${OUT#"$ROOT"/}/logs/$t.replay.log)"
            ok=0
        fi
    fi

    FUZZ_TARGET=$t "$BIN" "$work" "$seeds" \
        -dict="$ROOT/Fuzz/tipcore.dict" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$crashers/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if (( rc != 0 )); then
        ok=0
        echo "fuzz: $t: CRASH (exit $rc) after ${execs:-?} runs; input saved in ${crashers#"$ROOT"/}/"
        grep -m1 -E "^==[0-9]+==ERROR|Fatal error|fuzz invariant failed|ALARM|out-of-memory|deadly signal" "$log" | sed 's/^/    /'
        echo "    log: ${log#"$ROOT"/}"
    else
        echo "fuzz: $t: ok, ${execs:-?} runs in ${SECS}s, ${cov:-cov: ?}"
    fi
    if (( ok )); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "fuzz: $passed passed, $failed failed"
(( failed == 0 ))
