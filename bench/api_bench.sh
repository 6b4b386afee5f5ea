#!/usr/bin/env bash
# Benchmarks of the task API and event bus, in release mode, printing tables:
# event-pattern matching throughput (1, 100, 10,000 rules), the makespan of a
# 10,000-item fan-out (built-in step, warm Lambda handler) and the latency from
# a progress report to a WebSocket client.
#   bench/api_bench.sh
#   ITEMS=2000 bench/api_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
"$PYTHON" -c 'import awslambdaric' 2>/dev/null || "$PYTHON" -m pip install --quiet awslambdaric
echo "## Event-pattern matching (one core)"
cargo run --quiet --release -p sluice-core --example pattern_bench
echo
echo "## Fan-out and live progress"
cargo build --quiet --release -p sluice --bin sluice --example api_bench
"$TARGET/release/examples/api_bench" "$TARGET/release/sluice" "$PYTHON" "${ITEMS:-10000}"
