"""Transform one batch, reporting progress as it goes (SLUICE_PROGRESS lines)."""
import json
import sys
import time

batch = json.load(sys.stdin)
total = batch["to"] - batch["from"]
checksum = 0
for done in range(1, total + 1):
    checksum = (checksum * 31 + batch["from"] + done) % 1_000_003
    if done % 50 == 0 or done == total:
        report = {"done": done, "total": total, "message": f"batch {batch['batch']}"}
        print("SLUICE_PROGRESS " + json.dumps(report), file=sys.stderr, flush=True)
        time.sleep(0.01)  # stands for real work against a database
print(json.dumps({"task": batch["task"], "batch": batch["batch"], "rows": total, "checksum": checksum}))
