#!/usr/bin/env bash
# Benchmarks the Lambda runtime (Runtime API round trip, cold start, throughput)
# with a trivial awslambdaric handler and a trivial Rust `lambda_runtime` one,
# and prints a table.
#   bench/lambda_bench.sh
#   CALLS=5000 THROUGHPUT_CALLS=50000 bench/lambda_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
"$PYTHON" -c 'import awslambdaric' 2>/dev/null || "$PYTHON" -m pip install --quiet awslambdaric
CARGO_TARGET_DIR="$TARGET/tmp/lambda-rust-handler" \
  cargo build --quiet --release --locked --manifest-path examples/lambda-rust-handler/Cargo.toml
cargo run --quiet --release -p sluice-runtime --example lambda_bench -- \
  --python "$PYTHON" \
  --python-dir "$PWD/bench" \
  --rust "$TARGET/tmp/lambda-rust-handler/release/lambda-rust-handler" \
  --calls "${CALLS:-2000}" \
  --cold "${COLD:-20}" \
  --throughput-calls "${THROUGHPUT_CALLS:-20000}"
