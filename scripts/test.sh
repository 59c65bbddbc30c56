#!/usr/bin/env bash
# The whole test suite: install corepy with its test tools, run the lints, the Rust tests
# (unit tests and the SQL logic tests in tests/sql) and the Python tests.
source "$(dirname "$0")/setup.sh" test

step() { echo; echo "== $*"; }

step "benchmark peers (bench/requirements.txt)"
python -m pip install --quiet -r bench/requirements.txt

step "cargo fmt"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
step "ruff"
ruff check python/corepy tests examples bench scripts codegen/cuda
ruff format --check python/corepy tests examples bench scripts codegen/cuda
step "mypy --strict"
mypy --strict python/corepy
step "Rust tests (unit tests and tests/sql/*.slt)"
# Every generated PTX module is assembled by ptxas from the CUDA wheel of the test extras
# (the wheel does not mark it executable).
COREPY_PTXAS="$(python -c 'import nvidia.cuda_nvcc, os; print(os.path.join(nvidia.cuda_nvcc.__path__[0], "bin", "ptxas"))')"
chmod +x "$COREPY_PTXAS"
export COREPY_PTXAS COREPY_REQUIRE_PTXAS=1
cargo test --release --workspace
step "Python tests"
python -m pytest tests/python -q
step "Benchmark smoke run (every query of every suite at a tiny scale; answers only)"
python -m bench run all --smoke --engines corepy,corepy-nojit,duckdb,polars,datafusion,pandas,numexpr
