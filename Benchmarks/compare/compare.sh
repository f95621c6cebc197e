#!/usr/bin/env bash
# Rubble next to TensorFlow, ONNX Runtime and OpenVINO (engines.py says how), in a throwaway virtualenv
# outside the repository. Usage: Benchmarks/compare/compare.sh [engines.py options]
#   VENV=/tmp/rubble-compare-venv (kept between runs; delete it to start over)
#   RUBBLE=.build/release/rubble (built here when missing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${VENV:-/tmp/rubble-compare-venv}
rubble=${RUBBLE:-$root/.build/release/rubble}
case "$venv" in "$root"/*) echo "compare.sh: VENV must be outside the repository ($venv)" >&2; exit 64 ;; esac
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "tensorflow-cpu==2.21.*" "tf_keras==2.21.*" "tf2onnx==1.17.*" "onnx==1.23.*" \
        "onnxruntime==1.32.*" "openvino==2026.4.*"
fi
[ -x "$rubble" ] || (cd "$root" && swift build -c release --product rubble)
exec "$venv/bin/python" "$here/engines.py" --rubble "$rubble" "$@"
