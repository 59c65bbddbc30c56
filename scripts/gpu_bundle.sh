#!/usr/bin/env bash
# Packs the built corepy package (the Python sources and the stripped extension) into
# gpu-build/corepy.tar.gz, for a GPU machine without a Rust toolchain: carry gpu-build there
# and run tests/gpu/run.sh, which unpacks it. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
so=.venv/lib/python3*/site-packages/corepy/_core.abi3.so
# shellcheck disable=SC2086
[ -f $so ] || { echo "no built extension: run 'bash scripts/setup.sh test' first" >&2; exit 1; }
stage=$(mktemp -d)
mkdir -p "$stage/corepy-bundle"
cp -r python/corepy "$stage/corepy-bundle/"
rm -f "$stage/corepy-bundle/corepy/"*.so
# shellcheck disable=SC2086
strip -o "$stage/corepy-bundle/corepy/_core.abi3.so" $so
mkdir -p gpu-build
tar -czf gpu-build/corepy.tar.gz -C "$stage" corepy-bundle
rm -rf "$stage"
grep -qx '/gpu-build/' .git/info/exclude 2>/dev/null || echo '/gpu-build/' >> .git/info/exclude
ls -la gpu-build/corepy.tar.gz
