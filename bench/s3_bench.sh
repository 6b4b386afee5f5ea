#!/usr/bin/env bash
# Buckets benchmark: trigger latency from PutObject's response to the handler's
# start, and PUT/GET throughput and server memory for small and large objects,
# measured against the local disk in the same run.
#   bench/s3_bench.sh                    # 1,000 uploads, 1 MB and 1 GiB objects
#   UPLOADS=200 BIG_MB=5120 bench/s3_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p sluice
BIN="${CARGO_TARGET_DIR:-target}/release/sluice"
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 -c "import boto3" 2>/dev/null || python3 -m pip install --quiet boto3

mkdir -p "$WORK/project"
# bash's EPOCHREALTIME reads the clock without forking, so the stamp is the
# handler's start, not the start of a `date` child.
cat > "$WORK/project/stamp.sh" <<'SH'
start=${EPOCHREALTIME/./}000
key=$(sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
echo "$key $start" >> "$STAMPS"
echo '{}'
SH
cat > "$WORK/project/sluice.yaml" <<YAML
version: 1
buckets:
  drop: {}
  big: {}
functions:
  stamp:
    run: bash stamp.sh
    concurrency: 8
    env: { STAMPS: "$WORK/stamps" }
triggers:
  dropped:
    bucket: { name: drop }
    target: { function: stamp }
YAML
"$BIN" up "$WORK/project" --data-dir "$WORK/data" --listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 > "$WORK/out" 2> "$WORK/err" &
PID=$!
until grep -q '^ready:' "$WORK/out"; do
  kill -0 $PID 2>/dev/null || { cat "$WORK/err"; exit 1; }
  sleep 0.1
done
S3=$(awk '$1 == "s3" { print $2 }' "$WORK/out")
python3 bench/s3_bench.py --endpoint "$S3" --credentials "$WORK/data/s3-credentials.json" \
  --stamps "$WORK/stamps" --pid "$PID" --scratch "$WORK" \
  --uploads "${UPLOADS:-1000}" --big-mb "${BIG_MB:-1024}"
