#!/usr/bin/env bash
# Runs Sluice's benchmarks in release mode and prints their tables.
#   bench/run.sh                 # both benchmarks
#   MESSAGES=50000 CALLS=500 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${MESSAGES:-20000}"
CALLS="${CALLS:-300}"

echo "## Queue throughput: enqueue → lease → ack ($MESSAGES messages, SQLite, durable)"
echo
cargo run --quiet --release -p sluice-store --example queue_bench -- --messages "$MESSAGES"
echo
echo "## Dispatch overhead of a process function"
echo
cargo run --quiet --release -p sluice-engine --example dispatch_bench -- "$CALLS"
