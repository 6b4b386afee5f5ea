#!/usr/bin/env bash
# The `sql-extract` step end to end: a PostgreSQL table of ROWS rows
# (default 10 million; id bigint, customer text, amount numeric(12,2),
# created_at timestamptz, flag bool, note text with nulls and commas) is
# extracted by `sluice start` of a one-step pipeline on a running `sluice up`
# (SQL file read from a bucket, rows streamed, the result stored as an object
# version), to CSV, gzip-compressed CSV and zstd Parquet. In the same run,
# against `psql -c "\copy (query) TO file CSV HEADER"` and a straightforward
# Python extractor (psycopg server-side cursor + csv.writer, and pyarrow for
# Parquet). Sluice's times are wall-clock of the whole `sluice start`; its
# peak memory is the server's VmHWM, reset before each run. \copy and Sluice
# run ROUNDS times, interleaved, and the best time of each is kept (the
# Python extractors, several times slower, run once).
#   bench/extract_bench.sh                 # 10 million rows, 2 rounds
#   ROWS=1000000 ROUNDS=3 bench/extract_bench.sh
#   PG=postgres://postgres@127.0.0.1:5432/test bench/extract_bench.sh
#   FORMATS=csv-none PY_FORMATS= bench/extract_bench.sh   # CSV only, no Python
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
ROUNDS="${ROUNDS:-2}"
# Which outputs Sluice writes, and which the Python extractor (none: skip it).
FORMATS="${FORMATS:-csv-none csv-gzip parquet-zstd}"
PY_FORMATS="${PY_FORMATS-csv parquet}"
PG="${PG:-postgres://postgres@127.0.0.1:5432/test}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
WORK="$(mktemp -d)"
SLUICE_PID=""
cleanup() {
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null && wait "$SLUICE_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "extract_bench: $*" >&2; exit 1; }

psql -q "$PG" -c "select 1" >/dev/null || fail "cannot reach PostgreSQL at $PG"
command -v aws >/dev/null || fail "the aws CLI is needed to put the SQL file in a bucket (pip install awscli)"
"$PYTHON" -c 'import psycopg' 2>/dev/null || "$PYTHON" -m pip install --quiet 'psycopg[binary]' \
  || fail "cannot install psycopg for the Python extractor"
"$PYTHON" -c 'import pyarrow' 2>/dev/null || "$PYTHON" -m pip install --quiet pyarrow \
  || fail "cannot install pyarrow for the Python extractor"
"$PYTHON" -c 'import psycopg, pyarrow' || fail "psycopg or pyarrow does not import"

# The table, kept between runs of the same size (its comment says how many rows).
seeded=$(psql -qAt "$PG" -c "select obj_description('bench_extract.orders'::regclass)" 2>/dev/null || true)
if [ "$seeded" != "rows=$ROWS" ]; then
  echo "seeding bench_extract.orders with $ROWS rows…" >&2
  psql -q "$PG" -v ON_ERROR_STOP=1 <<SQL
DROP SCHEMA IF EXISTS bench_extract CASCADE;
CREATE SCHEMA bench_extract;
CREATE TABLE bench_extract.orders (
  id          bigint PRIMARY KEY,
  customer    text NOT NULL,
  amount      numeric(12,2) NOT NULL,
  created_at  timestamptz NOT NULL,
  flag        boolean NOT NULL,
  note        text
);
INSERT INTO bench_extract.orders
SELECT n, 'Customer ' || (n % 100000),
       round(((n % 100000) * 1.37 + 0.5)::numeric, 2),
       timestamptz '2024-01-01 00:00:00+00' + n * interval '1.25 second',
       n % 3 = 0,
       CASE WHEN n % 10 = 0 THEN NULL WHEN n % 7 = 0 THEN 'gift, wrapped' ELSE 'order ' || n END
FROM generate_series(1, $ROWS) AS n;
VACUUM ANALYZE bench_extract.orders;
COMMENT ON TABLE bench_extract.orders IS 'rows=$ROWS';
SQL
fi
QUERY="SELECT id, customer, amount, created_at, flag, note FROM bench_extract.orders"
TABLE_MB=$(psql -qAt "$PG" -c "select pg_total_relation_size('bench_extract.orders') / 1048576")
psql -qAt "$PG" -c "select count(*) from bench_extract.orders" >/dev/null # warm the cache

cargo build --quiet --release -p sluice --bin sluice
SLUICE="$TARGET/release/sluice"

# A project with one extract pipeline per output.
mkdir -p "$WORK/project" "$WORK/sql"
echo "$QUERY" > "$WORK/sql/orders.sql"
{
  cat <<YAML
version: 1
buckets:
  queries: {}
  extracts: {}
connections:
  warehouse: { url: "$PG", pool: { max: 2 }, query_timeout: 60m }
pipelines:
YAML
  for p in "csv none" "csv gzip" "parquet zstd"; do
    set -- $p
    cat <<YAML
  extract-$1-$2:
    retry: { max_attempts: 1 }
    phases:
      - name: extract
        uses: sql-extract
        with: { connection: warehouse, from_bucket: queries, from_key: sql/orders.sql,
                to_bucket: extracts, key: "orders-{run_id}.{ext}", format: $1, compression: $2 }
YAML
  done
} > "$WORK/project/sluice.yaml"
"$SLUICE" up "$WORK/project" --data-dir "$WORK/data" --listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 \
  > "$WORK/up.log" 2>"$WORK/up.err" &
SLUICE_PID=$!
for _ in $(seq 600); do grep -q '^ready: ' "$WORK/up.log" && break; sleep 0.1; done
API=$(sed -n 's/^ready: //p' "$WORK/up.log")
S3=$(awk '$1 == "s3" { print $2 }' "$WORK/up.log" | head -1)
[ -n "$API" ] && [ -n "$S3" ] || fail "sluice up did not start: $(cat "$WORK/up.err")"
AWS_ACCESS_KEY_ID=$(jq -r '.[0].access_key_id' "$WORK/data/s3-credentials.json") \
AWS_SECRET_ACCESS_KEY=$(jq -r '.[0].secret_access_key' "$WORK/data/s3-credentials.json") \
AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url "$S3" s3 cp --only-show-errors "$WORK/sql/orders.sql" s3://queries/sql/orders.sql

now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
RESULTS="$WORK/results"
: > "$RESULTS"
# tool | format | seconds | rows | bytes | peak memory | notes
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }

# psql \copy: COPY's own CSV writer, in the server, streamed to a file by psql.
copy_run() {
  local s; s=$(now)
  psql -q "$PG" -c "\\copy ($QUERY) TO '$WORK/copy.csv' CSV HEADER"
  record 'psql `\copy (query) TO file CSV`' csv "$(since "$s")" "$ROWS" "$(stat -c %s "$WORK/copy.csv")" - -
  rm -f "$WORK/copy.csv"
}

# Sluice: the whole product path, `sluice start` until the run ends.
TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SLUICE_PID/stat"; }
sluice_run() {
  local pipeline=$1 label=$2 format=$3 s run ticks
  echo 5 > "/proc/$SLUICE_PID/clear_refs" 2>/dev/null || true # reset the peak RSS
  ticks=$(cpu_ticks)
  s=$(now)
  run=$("$SLUICE" --api "$API" --json start "$pipeline") || true
  local seconds; seconds=$(since "$s")
  [ "$(jq -r .status <<<"$run" 2>/dev/null)" = succeeded ] || fail "$pipeline did not succeed: $run"
  local cpu; cpu=$(python3 -c "print(f'{($(cpu_ticks) - $ticks) / $TICKS:.1f}')")
  local out; out=$(jq -c '.steps[0].output' <<<"$run")
  local hwm; hwm=$(awk '/VmHWM/ { printf "%d MiB", $2 / 1024 }' "/proc/$SLUICE_PID/status")
  local step; step=$(jq '.duration_ms / 1000' <<<"$out")
  record "$label" "$format" "$seconds" "$(jq .rows <<<"$out")" "$(jq .bytes <<<"$out")" "$hwm" \
    "$step s querying and encoding, Sluice CPU $cpu s"
  echo "$label $format: ${seconds} s end to end, step $step s, Sluice CPU $cpu s" >&2
}
for round in $(seq "$ROUNDS"); do
  copy_run
  for f in $FORMATS; do
    case $f in
      csv-none) sluice_run extract-csv-none 'Sluice `sql-extract`' csv ;;
      csv-gzip) sluice_run extract-csv-gzip 'Sluice `sql-extract`' csv.gz ;;
      parquet-zstd) sluice_run extract-parquet-zstd 'Sluice `sql-extract`' "parquet (zstd)" ;;
      *) fail "unknown format $f in FORMATS (csv-none, csv-gzip, parquet-zstd)" ;;
    esac
  done
done

# Python: a server-side cursor, rows through csv.writer / pyarrow.
cat > "$WORK/py_extract.py" <<'PY'
import csv, sys
import psycopg
url, query, fmt, path = sys.argv[1:5]
rows = 0
with psycopg.connect(url) as conn, conn.cursor(name="extract") as cur:
    cur.itersize = 10000
    cur.execute(query)
    if fmt == "csv":
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow([c.name for c in cur.description])
            for row in cur:
                out.writerow(row)
                rows += 1
    else:
        import pyarrow as pa, pyarrow.parquet as pq
        schema = pa.schema([("id", pa.int64()), ("customer", pa.string()),
                            ("amount", pa.decimal128(12, 2)),
                            ("created_at", pa.timestamp("us", tz="UTC")),
                            ("flag", pa.bool_()), ("note", pa.string())])
        with pq.ParquetWriter(path, schema, compression="zstd") as out:
            while chunk := cur.fetchmany(131072):
                columns = list(zip(*chunk))
                out.write_table(pa.Table.from_arrays(
                    [pa.array(c, type=t) for c, t in zip(columns, schema.types)], schema=schema))
                rows += len(chunk)
print(rows)
PY
for format in $PY_FORMATS; do
  s=$(now)
  n=$("$PYTHON" "$WORK/py_extract.py" "$PG" "$QUERY" "$format" "$WORK/py.$format")
  label="Python psycopg + csv.writer"
  [ "$format" = parquet ] && label="Python psycopg + pyarrow"
  fmtname=$format; [ "$format" = parquet ] && fmtname="parquet (zstd)"
  record "$label" "$fmtname" "$(since "$s")" "$n" "$(stat -c %s "$WORK/py.$format")" - -
  rm -f "$WORK/py.$format"
done

echo "## sql-extract: $ROWS rows from PostgreSQL ($TABLE_MB MiB table)"
echo
python3 - "$RESULTS" "$ROUNDS" <<'PY'
import sys
best = {}
for line in open(sys.argv[1]):
    r = line.rstrip("\n").split("\t")
    if (r[0], r[1]) not in best or float(r[2]) < float(best[(r[0], r[1])][2]):
        best[(r[0], r[1])] = r
rows = list(best.values())
copy = float(rows[0][2])
rounds = int(sys.argv[2])
print(f"| tool | format | seconds{' (best of %d)' % rounds if rounds > 1 else ''} | rows/s | output | ratio vs \\copy | peak memory |")
print("|---|---|---:|---:|---:|---:|---:|")
for tool, fmt, seconds, n, size, peak, _ in rows:
    s = float(seconds)
    print(f"| {tool} | {fmt} | {s:.2f} | {int(n) / s:,.0f} | {int(size) / 1048576:,.0f} MiB "
          f"| {copy / s:.2f} | {peak} |")
print()
for tool, fmt, seconds, n, size, peak, notes in rows:
    if notes != "-":
        print(f"- Sluice {fmt}: {float(seconds):.2f} s end to end, of which {notes}")
sluice_csv = next(float(r[2]) for r in rows if r[0].startswith("Sluice") and r[1] == "csv")
print()
print(f"Sluice CSV runs at {copy / sluice_csv:.0%} of \\copy's throughput (target ≥ 90%)")
PY
echo
echo "load: $(uptime)"
