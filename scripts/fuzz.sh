#!/usr/bin/env bash
# Fuzzes the C shims and the Keras weights reader with libFuzzer and AddressSanitizer (issue 11).
#   scripts/fuzz.sh [SECONDS]      each harness runs SECONDS (default 60; 5 harnesses)
# Builds every harness of Fuzz/ (README there) with `clang -fsanitize=fuzzer,address` against
# the shims' current sources (Sources/CJPEG, Sources/CPNG, Sources/CHDF5, Sources/CEXIF) and
# Debian's libjpeg, libpng16, hdf5_serial and libexif, runs each from a temporary copy of its seed corpus
# (Fuzz/corpus/<name>), and prints per harness the executions, the coverage libFuzzer reports
# (cov: edges, ft: features; of the instrumented shim and harness code — the system libraries
# are not instrumented) and whether it crashed. libFuzzer runs in fork mode and goes on after a
# crash, so one finding does not end the run; every crashing input (ASan report, deadly signal,
# leak, timeout, out-of-memory) is then run again alone and classified by the first stack frame
# outside the sanitizer runtime and libc:
#   - in our code (Sources/, Fuzz/), in libjpeg, libpng or libexif, or unknown: CRASHED — the input is
#     kept under Fuzz/crashes/<harness>-<kind>-<hash> (printed) and the script exits 1;
#   - not reproduced when the input runs alone (three tries): listed, kept outside the tree, not
#     a failure (the crash depended on state left by earlier inputs; FUZZ_STRICT=1 fails it);
#   - inside libhdf5: reported as "libhdf5" with the input kept outside the tree
#     ($TMPDIR/rubble-fuzz-libhdf5/), not a failure: Debian's libhdf5 1.10.8 has such bugs on
#     malformed files (Fuzz/README.md), which the weights reader meets in a forked child first
#     (rh5_preflight). FUZZ_STRICT=1 makes them fail too.
# Environment: FUZZ_CC (a clang with -fsanitize=fuzzer; default the Swift toolchain's, else
# clang), FUZZ_ONLY="jpeg png" (a subset), FUZZ_JOBS (harnesses run at once, default 2),
# FUZZ_STRICT.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 64
fi

supports_fuzzer() { echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
  "$1" -x c -fsanitize=fuzzer,address -o /dev/null - >/dev/null 2>&1; }
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
  for candidate in /opt/swift/usr/bin/clang "$(command -v clang || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && supports_fuzzer "$candidate"; then cc=$candidate; break; fi
  done
fi
if [ -z "$cc" ] || ! supports_fuzzer "$cc"; then
  echo "fuzz: no clang with -fsanitize=fuzzer (the Swift toolchain's /opt/swift/usr/bin/clang has it; or apt-get install clang)" >&2
  exit 69
fi

work=$(mktemp -d -t rubble-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" Fuzz/crashes
flags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address -Wall)
# lld links ASan binaries without ld.gold's warnings about the sanitizer's local symbols.
if "$cc" -fuse-ld=lld -x c -o /dev/null - <<<'int main(void) { return 0; }' >/dev/null 2>&1; then flags+=(-fuse-ld=lld); fi

# name | sources | include dir | libraries
targets=(
  "jpeg|Fuzz/jpeg_fuzzer.c $(ls Sources/CJPEG/*.c | tr '\n' ' ')|Sources/CJPEG/include|-ljpeg"
  "png|Fuzz/png_fuzzer.c $(ls Sources/CPNG/*.c | tr '\n' ' ')|Sources/CPNG/include|-lpng16 -lz"
  "hdf5|Fuzz/hdf5_fuzzer.c $(ls Sources/CHDF5/*.c | tr '\n' ' ')|Sources/CHDF5/include|-lhdf5_serial"
  "keras|Fuzz/keras_reader_fuzzer.c $(ls Sources/CHDF5/*.c | tr '\n' ' ')|Sources/CHDF5/include|-lhdf5_serial"
  "exif|Fuzz/exif_fuzzer.c $(ls Sources/CEXIF/*.c | tr '\n' ' ')|Sources/CEXIF/include|-lexif"
)
only=${FUZZ_ONLY:-jpeg png hdf5 keras exif}
start=$(date +%s)
names=()
for target in "${targets[@]}"; do
  IFS='|' read -r name sources include libraries <<<"$target"
  [[ " $only " == *" $name "* ]] || continue
  # shellcheck disable=SC2086
  if ! "$cc" "${flags[@]}" -I"$include" $sources $libraries -o "$work/bin/$name" 2>"$work/$name.build.log"; then
    cat "$work/$name.build.log" >&2
    echo "fuzz: FAILED to build the $name harness" >&2
    exit 1
  fi
  names+=("$name")
done
echo "fuzz: built ${names[*]} with $cc in $(( $(date +%s) - start )) s; ${seconds} s each"

# Allocations over 1 GiB fail (return NULL) instead of being reported: libhdf5 asks for what
# corrupt sizes in a file say and copes with a NULL, and under ASan even an allocation it never
# touches costs shadow memory. Memory actually used past 2 GiB is reported, and so are leaks
# (except libhdf5's own, Fuzz/lsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp}
# An input runs in well under 10 ms; 3 s is a hang (libhdf5 has infinite loops on some files).
limits=(-timeout=3 -rss_limit_mb=2048 -malloc_limit_mb=1024)

run() {
  local name=$1
  mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
  cp Fuzz/corpus/"$name"/* "$work/corpus/$name/"
  local status=0
  (cd "$work" && "$work/bin/$name" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$seconds" "${limits[@]}" -artifact_prefix="$work/artifacts/$name/" "$work/corpus/$name" \
      >"$work/$name.log" 2>&1) || status=$?
  echo "$status" >"$work/$name.status"
}

# Where a crashing input crashes: libhdf5, libjpeg, libpng, libexif, ours, unknown, or not-reproduced
# when three runs of it alone do not crash (the crash depended on what ran before it in the
# fuzzing process, e.g. libhdf5's global caches) (its report in $3).
classify() {
  local attempt
  for attempt in 1 2 3; do
    timeout 120 "$1" "${limits[@]}" "$2" >"$3" 2>&1 && ! grep -qE 'ERROR: |deadly signal|==[0-9]+==' "$3" || break
    [ "$attempt" -lt 3 ] || { echo not-reproduced; return; }
  done
  local frame
  frame=$(grep -E '^ +#[0-9]+ 0x' "$3" |
    grep -vE 'compiler-rt|libclang_rt|/libc\.so|libc_start|csu/|sysdeps/| in _start|fuzzer::' | head -1 || true)
  # No stack from ASan (e.g. glibc's "stack smashing detected" abort inside an uninstrumented
  # library, where ASan's own report fails): ask gdb where the abort came from.
  if [ -z "$frame" ] && command -v gdb >/dev/null 2>&1; then
    frame=$(ASAN_OPTIONS=handle_abort=0:handle_segv=0:detect_leaks=0:allocator_may_return_null=1 \
      timeout 120 gdb -batch -ex run -ex bt --args "$1" "${limits[@]}" "$2" 2>&1 | grep -E '^#[0-9]+ ' |
      grep -vE 'pthread_kill|raise|abort|libc_message|fortify_fail|stack_chk_fail|/libc\.so|nptl/|sysdeps/|debug/| \?\? ' |
      head -1 || true)
    echo "gdb: first frame outside libc: ${frame:-none}" >>"$3"
  fi
  case "$frame" in
    *libhdf5*) echo libhdf5 ;;
    *libjpeg*) echo libjpeg ;;
    *libpng*|*libz.so*) echo libpng ;;
    *libexif*) echo libexif ;;
    *Sources/*|*Fuzz/*) echo ours ;;
    *) echo unknown ;;
  esac
}

jobs=${FUZZ_JOBS:-2}
running=0
for name in "${names[@]}"; do
  run "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

failed=0
hdf5_kept=${TMPDIR:-/tmp}/rubble-fuzz-libhdf5
printf '%-6s %12s %8s %8s %8s  %s\n' harness executions cov ft corpus result
for name in "${names[@]}"; do
  log="$work/$name.log"
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  executions=$(grep -oE '^#[0-9]+' <<<"$last" | tr -d '#' || true)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  corpus=$(grep -oE 'corp: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  ours=0 library=0 notes=()
  for artifact in "$work/artifacts/$name"/*; do
    [ -e "$artifact" ] || continue
    report="$work/$name-$(basename "$artifact").report"
    where=$(classify "$work/bin/$name" "$artifact" "$report")
    what=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [A-Za-z-]+( [a-z-]+)*|deadly signal|timeout after [0-9]+ seconds|out-of-memory' "$report" || echo "$(basename "$artifact" | cut -d- -f1)")
    if [ "$where" = not-reproduced ] && [ -z "${FUZZ_STRICT:-}" ]; then
      mkdir -p "$hdf5_kept"
      kept="$hdf5_kept/$name-unreproduced-$(basename "$artifact")"
      cp "$artifact" "$kept"
      notes+=("  $name: a crash during fuzzing that does not happen when its input runs alone (kept: $kept)")
    elif [ "$where" = libhdf5 ] && [ -z "${FUZZ_STRICT:-}" ]; then
      library=$((library + 1))
      mkdir -p "$hdf5_kept"
      kept="$hdf5_kept/$name-$(basename "$artifact")"
      cp "$artifact" "$kept"
      cp "$report" "$kept.report"
      [ "$library" -le 3 ] && notes+=("  $name: inside libhdf5 ($what): $kept")
    else
      ours=$((ours + 1))
      kept="Fuzz/crashes/$name-$(basename "$artifact")"
      cp "$artifact" "$kept"
      cp "$report" "$kept.report"
      notes+=("  $name: CRASH in $where ($what): crashing input $kept (report: $kept.report)")
      mapfile -t lines < <(grep -E 'ERROR:|SUMMARY:|^ +#[0-9]+ 0x' "$report" | head -12 | sed "s/^ */  $name:   /")
      notes+=("${lines[@]}")
    fi
  done
  result=ok
  if [ "$ours" -gt 0 ]; then result="CRASHED ($ours)"; failed=1; fi
  if [ "$library" -gt 0 ]; then result="$result, $library libhdf5 bug input(s)"; fi
  if ! grep -qE '^INFO: -fork=1: .*seed inputs' "$log"; then result="DID NOT RUN"; failed=1; tail -5 "$log" | sed "s/^/  $name: /"; fi
  printf '%-6s %12s %8s %8s %8s  %s\n' "$name" "${executions:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$result"
  for note in "${notes[@]}"; do echo "$note"; done
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
exit "$failed"
