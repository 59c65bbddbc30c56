# Sourced by demo.sh and test.sh: creates .venv and installs corepy into it, building the
# Rust extension. Extras to install (e.g. "test") are the arguments.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The cargo target directory lives outside the clone so that every later build is warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/corepy-target}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

command -v cargo >/dev/null || { echo "corepy needs a Rust toolchain (cargo) on PATH: https://rustup.rs" >&2; exit 1; }
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
export PATH="$PWD/.venv/bin:$PATH"

extras=""
[ $# -gt 0 ] && extras="[$(IFS=,; echo "$*")]"
echo "== installing corepy$extras (the Rust build takes ~25 min cold, ~2 min warm; target dir $CARGO_TARGET_DIR)"
started=$SECONDS
python -m pip install --quiet ".$extras"
echo "== installed in $((SECONDS - started)) s"
