#!/usr/bin/env bash
# Builds and runs Examples/ two ways, as users would depend on Rubble:
#   1. by path (Examples/Package.swift: `.package(name: "Rubble", path: "..")`);
#   2. by version: a temporary clone of this repository's HEAD gets a local tag (the version in
#      Sources/rubble/Rubble.swift), and a copy of Examples/ depends on it with `from:` — which
#      SwiftPM refuses for packages with unsafe build flags, so this also proves there are none.
# Debug builds (the library's checks on). Prints what it checked; exits non-zero on failure.
#
#   scripts/check-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "check-examples: $*"; }
fail() { echo "check-examples: FAILED: $*" >&2; exit 1; }
root=$(pwd)
work=$(mktemp -d -t rubble-check-examples.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

say "1. Examples/ by path"
(cd Examples && swift build --scratch-path "$root/.build-examples" >"$work/path.log" 2>&1) \
  || { tail -40 "$work/path.log"; fail "swift build of Examples/ (by path)"; }
"$root/.build-examples/debug/TrainInMemory" >"$work/run-path.log" 2>&1 \
  || { cat "$work/run-path.log"; fail "TrainInMemory (by path)"; }
say "   $(tail -1 "$work/run-path.log")"

version=$(sed -n 's/^let rubbleVersion = "\(.*\)"$/\1/p' Sources/rubble/Rubble.swift)
[ -n "$version" ] || fail "no rubbleVersion in Sources/rubble/Rubble.swift"
say "2. a package that depends on a clone tagged $version by version (from: \"$version\")"
git clone -q "$root" "$work/Rubble"
git -C "$work/Rubble" -c user.name=ci -c user.email=ci@localhost tag -f "$version" >/dev/null
mkdir -p "$work/consumer"
cp -R Examples/Sources "$work/consumer/"
sed "s|.package(name: \"Rubble\", path: \"..\")|.package(url: \"file://$work/Rubble\", from: \"$version\")|" \
  Examples/Package.swift > "$work/consumer/Package.swift"
grep -q "from: \"$version\"" "$work/consumer/Package.swift" || fail "could not rewrite the dependency"
(cd "$work/consumer" && swift build >"$work/version.log" 2>&1) \
  || { tail -40 "$work/version.log"; fail "swift build of the consumer (by version)"; }
"$work/consumer/.build/debug/TrainInMemory" >"$work/run-version.log" 2>&1 \
  || { cat "$work/run-version.log"; fail "TrainInMemory (by version)"; }
say "   $(tail -1 "$work/run-version.log")"
say "passed in $(( $(date +%s) - start )) s"
