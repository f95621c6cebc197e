#!/usr/bin/env bash
# Sets up (if needed) and runs every check, as CI does (.ci/run calls exactly this):
#   1. the report page of `rubble screen` in headless Chromium (scripts/check-report.sh; installs
#      chromium if missing; skip it locally with RUBBLE_SKIP_BROWSER=1);
#   1b. `rubble serve` and its verification page in headless Chromium (scripts/check-serve.sh,
#      after the report check, on the same build; skipped with RUBBLE_SKIP_BROWSER=1 too);
#   2. Examples/ built and run by path and, against a tagged clone, by version
#      (scripts/check-examples.sh; skip with RUBBLE_SKIP_EXAMPLES=1);
#   3. libFuzzer + AddressSanitizer on the JPEG, PNG, HDF5 and EXIF shims and the weights reader's
#      walk, 60 s each (scripts/fuzz.sh, ~4 min; RUBBLE_FUZZ_SECONDS, skip with RUBBLE_SKIP_FUZZ=1);
#   PostgreSQL: a throwaway cluster on loopback (scripts/postgres.sh; installs postgresql if
#      missing) for the store's tests, stopped and deleted at exit; its URL goes to the tests in
#      RUBBLE_POSTGRES_URL (skip with RUBBLE_SKIP_POSTGRES=1: the store is then tested on SQLite only);
#   4. the unit tests in a debug build, with every assertion on (in parallel, about a minute;
#      skip with RUBBLE_SKIP_DEBUG=1);
#   5. the whole unit-test suite, optimised (-O: preconditions and bounds checks stay on), with
#      testing enabled — the same build as the README's first command. XCTest only (there are no
#      Swift Testing tests); it runs last so its summary closes the output.
# Arguments go to the last `swift test` (e.g. --filter KerasFilesTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
start=$(date +%s)
if [ -z "${RUBBLE_SKIP_POSTGRES:-}" ] && [ -z "${RUBBLE_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d -t rubble-postgres.XXXXXX)
  trap 'scripts/postgres.sh stop "$pgdir"' EXIT
  export "$(scripts/postgres.sh start "$pgdir" | tail -1)"
  echo "test: PostgreSQL for the store's tests at $RUBBLE_POSTGRES_URL"
fi
if [ -z "${RUBBLE_SKIP_BROWSER:-}" ]; then
  scripts/check-report.sh
  scripts/check-serve.sh
fi
if [ -z "${RUBBLE_SKIP_EXAMPLES:-}" ]; then
  scripts/check-examples.sh
fi
if [ -z "${RUBBLE_SKIP_FUZZ:-}" ]; then
  echo "test: fuzzing the C shims and the weights reader, ${RUBBLE_FUZZ_SECONDS:-60} s each ($(date +%T))"
  scripts/fuzz.sh "${RUBBLE_FUZZ_SECONDS:-60}"
fi
if [ -z "${RUBBLE_SKIP_DEBUG:-}" ]; then
  echo "test: the unit tests in a debug build, assertions on ($(date +%T))"
  log=$(mktemp -t rubble-debug-tests.XXXXXX)
  if ! swift test --disable-swift-testing --parallel --num-workers 2 >"$log" 2>&1; then
    grep -E 'error|failed|Fatal|Crash' "$log" | head -60
    echo "test: FAILED: the debug test pass (log: $log)" >&2
    exit 1
  fi
  echo "test: debug pass: $(grep -c '^\[[0-9]*/[0-9]*\] Testing' "$log") tests passed"
  rm -f "$log"
fi
echo "test: optimised build ($(date +%T), $(( $(date +%s) - start )) s so far)"
swift test -c release -Xswiftc -enable-testing --disable-swift-testing "$@"
