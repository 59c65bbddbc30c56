#!/usr/bin/env bash
# Everything a GPU machine checks, in one run of a few minutes:
#   1. the driver and the device;
#   2. the self-test: random kernels of the differential suites (row kernels with NULLs,
#      guards, failures and filters; tensor kernels with strides and reductions) run on
#      the GPU and compared with the interpreter and the CPU JIT;
#   3. tests/python/test_gpu.py (GPU answers against the CPU's, EXPLAIN ANALYZE's copies);
#   4. the GPU benchmark (python -m bench.gpu).
# Results go to $OUT (or ./gpu-results). corepy comes from gpu-build/corepy.tar.gz
# (scripts/gpu_bundle.sh, for machines without Rust) or is built here.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/gpu-results}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
step() { echo; echo "== $*"; }
status=0

step "driver and device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv | tee "$OUT/device.txt" || status=1

if [ -f gpu-build/corepy.tar.gz ]; then
    tar -xzf gpu-build/corepy.tar.gz -C /tmp
    export PYTHONPATH="/tmp/corepy-bundle:$PWD${PYTHONPATH:+:$PYTHONPATH}"
    PY=python3
elif command -v cargo >/dev/null; then
    # shellcheck source=/dev/null
    source scripts/setup.sh test
    PY=python
else
    echo "no corepy build: run scripts/gpu_bundle.sh where Rust is, and carry gpu-build" >&2
    exit 2
fi
$PY -c "import corepy as cp; print(cp.gpu_info() or cp.gpu_available())" | tee -a "$OUT/device.txt"

step "self-test: random kernels on the GPU against the interpreter and the CPU JIT"
$PY - <<'PY' 2>&1 | tee "$OUT/selftest.txt"
import json, sys, time
import corepy as cp
started = time.perf_counter()
from corepy.device import gpu_selftest
report = gpu_selftest(int(__import__("os").environ.get("COREPY_GPU_SELFTEST", "2000")))
report["seconds"] = round(time.perf_counter() - started, 1)
print(json.dumps(report, indent=1))
sys.exit(1 if report["mismatches"] else 0)
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "tests/python/test_gpu.py"
$PY -m pytest tests/python/test_gpu.py -q -p no:cacheprovider 2>&1 | tee "$OUT/pytest.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "benchmark"
$PY -m bench.gpu --out "$OUT/gpu-bench.json" 2>&1 | tee "$OUT/bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo; echo "== done (status $status); results in $OUT"
exit $status
