"""Hears about failed ETL runs (a `Run Failed` event, reshaped by the rule)."""
import json
import sys

failure = json.load(sys.stdin)
print(f"ETL run {failure['run']} failed: {failure['error']} (see {failure['see']})", file=sys.stderr)
print(json.dumps({"alerted": failure["run"]}))
