#!/usr/bin/env bash
# CSV → table throughput for seed 002's shape (student_id, first_name,
# last_name, course; key student_id + course), against the obvious
# alternatives in the same run: sqlite3's .import, PostgreSQL's COPY, and a
# Python csv + executemany loader. Sluice validates every field (regex, enum,
# lengths) and upserts on the key; the alternatives only insert.
#   bench/csv_bench.sh                  # 10 million rows
#   ROWS=1000000 bench/csv_bench.sh
#   PG=postgres://postgres@127.0.0.1:5432/test bench/csv_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
PG="${PG:-postgres://postgres@127.0.0.1:5432/test}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CSV="$WORK/students.csv"

python3 - "$CSV" "$ROWS" <<'PY'
import sys
path, rows = sys.argv[1], int(sys.argv[2])
courses = ["math", "physics", "chemistry", "biology", "history"]
first = ["Ada", "Alan", "Grace", "Katherine", "Edsger", "Barbara", "Donald", "Margaret"]
last = ["Lovelace", "Turing", "Hopper", "Johnson", "Dijkstra", "Liskov", "Knuth", "Hamilton"]
with open(path, "w") as f:
    f.write("student_id,first_name,last_name,course\n")
    for i in range(rows):
        s = i // 5
        f.write(f"S{s:07d},{first[s % 8]},{last[(s // 8) % 8]},{courses[i % 5]}\n")
PY
SIZE_MB=$(( $(stat -c %s "$CSV") / 1048576 ))
cargo build --quiet --release -p sluice-tables --example load_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/load_bench"

rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
row() { printf '| %-44s | %10s | %8.2f | %12s | %s |\n' "$1" "$2" "$3" "$(rate "$2" "$3")" "$4"; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print($e-$s)"; }

echo "## CSV → table: $ROWS rows ($SIZE_MB MiB), seed 002's shape"
echo
echo "| loader | rows | seconds | rows/s | peak memory |"
echo "|---|---:|---:|---:|---|"

read -r n s rss < <("$BIN" sqlite "$CSV" "$WORK/sluice.db")
row "Sluice csv-load → SQLite (validate + upsert)" "$n" "$s" "$((rss / 1024)) MiB"
SLUICE_SQLITE=$s

sqlite3 "$WORK/import.db" "CREATE TABLE students (student_id TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL, course TEXT NOT NULL, PRIMARY KEY (student_id, course)) WITHOUT ROWID;"
s=$(timed sqlite3 "$WORK/import.db" -cmd ".mode csv" ".import --skip 1 $CSV students")
row "sqlite3 .import (insert only, no checks)" "$ROWS" "$s" "-"
IMPORT=$s

cat > "$WORK/py_sqlite.py" <<'PY'
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE students (student_id TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL, course TEXT NOT NULL, PRIMARY KEY (student_id, course)) WITHOUT ROWID")
with open(sys.argv[1], newline="") as f:
    rows = csv.reader(f); next(rows)
    batch = []
    for r in rows:
        batch.append(r)
        if len(batch) == 10000:
            db.executemany("INSERT INTO students VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET first_name=excluded.first_name, last_name=excluded.last_name", batch); batch = []
    db.executemany("INSERT INTO students VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET first_name=excluded.first_name, last_name=excluded.last_name", batch)
db.commit()
PY
s=$(timed python3 "$WORK/py_sqlite.py" "$CSV" "$WORK/py.db")
row "Python csv + executemany → SQLite (upsert)" "$ROWS" "$s" "-"
PY_SQLITE=$s

if psql "$PG" -c "select 1" >/dev/null 2>&1; then
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS bench_tables CASCADE" 2>/dev/null
  read -r n s rss < <("$BIN" postgres "$CSV" "$PG")
  row "Sluice csv-load → PostgreSQL (validate + upsert)" "$n" "$s" "$((rss / 1024)) MiB"
  SLUICE_PG=$s
  psql -q "$PG" -c "DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (student_id TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL, course TEXT NOT NULL, PRIMARY KEY (student_id, course))"
  s=$(timed psql -q "$PG" -c "\\copy bench_copy FROM '$CSV' CSV HEADER")
  row "psql \\copy FROM (COPY, insert only, no checks)" "$ROWS" "$s" "-"
  COPY=$s
  psql -q "$PG" -c "DROP TABLE IF EXISTS bench_copy; DROP SCHEMA IF EXISTS bench_tables CASCADE" 2>/dev/null
fi
echo
python3 - <<PY
print(f"Sluice vs sqlite3 .import: {$IMPORT/$SLUICE_SQLITE:.2f}x the speed; vs Python executemany: {$PY_SQLITE/$SLUICE_SQLITE:.2f}x")
if "${SLUICE_PG:-}" and "${COPY:-}":
    print(f"Sluice → PostgreSQL takes {float('${SLUICE_PG:-0}')/float('${COPY:-1}'):.2f}x COPY's time (target ≤ 1.5x)")
PY
