"""Extract: decide the work. Splits the task's records into batches of 250."""
import json
import sys

task = json.load(sys.stdin)
records = int(task.get("records", 1000))
size = 250
batches = [
    {"task": task.get("task", "task"), "batch": i, "from": start, "to": min(start + size, records)}
    for i, start in enumerate(range(0, records, size))
]
print(f"{records} records in {len(batches)} batches", file=sys.stderr)
print(json.dumps({"task": task.get("task", "task"), "records": records, "batches": batches}))
