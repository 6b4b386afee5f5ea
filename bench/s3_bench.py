"""Measures Sluice's buckets with boto3 and prints Markdown tables (see s3_bench.sh)."""
import argparse, json, os, statistics, time
import boto3
from botocore.config import Config

def client(endpoint, credentials):
    key = json.load(open(credentials))[0]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"],
                        config=Config(retries={"max_attempts": 0}))

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]

def trigger_latency(s3, stamps, uploads):
    answered = {}
    for i in range(uploads):
        key = f"in/{i:05d}.txt"
        s3.put_object(Bucket="drop", Key=key, Body=b"x")
        answered[key] = time.time_ns()
    deadline = time.time() + 120
    started = {}
    while len(started) < uploads and time.time() < deadline:
        if os.path.exists(stamps):
            started = dict(line.split() for line in open(stamps) if len(line.split()) == 2)
        time.sleep(0.05)
    ms = [(int(started[k]) - answered[k]) / 1e6 for k in answered if k in started]
    return ms, uploads - len(ms)

def disk_write(path, data):
    t = time.perf_counter()
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return time.perf_counter() - t

def disk_read(path):
    t = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass
    return time.perf_counter() - t

def hwm_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

def main():
    a = argparse.ArgumentParser()
    for name in ("endpoint", "credentials", "stamps", "scratch"):
        a.add_argument("--" + name, required=True)
    a.add_argument("--pid", type=int, required=True)
    a.add_argument("--uploads", type=int, default=1000)
    a.add_argument("--big-mb", type=int, default=1024)
    args = a.parse_args()
    s3 = client(args.endpoint, args.credentials)

    ms, missing = trigger_latency(s3, args.stamps, args.uploads)
    print(f"## Trigger latency: PutObject response → handler process start ({args.uploads} uploads)\n")
    print("| median | p99 | max | never started |\n|---:|---:|---:|---:|")
    print(f"| {statistics.median(ms):.2f} ms | {percentile(ms, 99):.2f} ms | {max(ms):.2f} ms | {missing} |\n")

    print("## Throughput against the local disk (same bytes, same run)\n")
    print("| object | PUT via S3 | write to disk (fsync) | ratio | GET via S3 | read from disk | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    one_mb = os.urandom(1 << 20)
    n = 50
    t = time.perf_counter()
    for i in range(n):
        s3.put_object(Bucket="big", Key=f"small/{i}", Body=one_mb)
    put = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n):
        s3.get_object(Bucket="big", Key=f"small/{i}")["Body"].read()
    get = n / (time.perf_counter() - t)
    disk = n / sum(disk_write(os.path.join(args.scratch, f"d{i}"), one_mb) for i in range(n))
    rdisk = n / sum(disk_read(os.path.join(args.scratch, f"d{i}")) for i in range(n))
    print(f"| 1 MB × {n} | {put:.0f} obj/s | {disk:.0f} obj/s | {put / disk:.0%} | {get:.0f} obj/s | {rdisk:.0f} obj/s | {get / rdisk:.0%} |")

    big = os.path.join(args.scratch, "big.bin")
    with open(big, "wb") as f:
        for _ in range(args.big_mb):
            f.write(os.urandom(1 << 20))
    before = hwm_mb(args.pid)
    t = time.perf_counter()
    s3.upload_file(big, "big", "large.bin")
    put = args.big_mb / (time.perf_counter() - t)
    peak = hwm_mb(args.pid)
    t = time.perf_counter()
    s3.download_file("big", "large.bin", os.path.join(args.scratch, "back.bin"))
    get = args.big_mb / (time.perf_counter() - t)
    peak_after_get = hwm_mb(args.pid)
    os.remove(os.path.join(args.scratch, "back.bin"))
    with open(big, "rb") as f:
        data_write = args.big_mb / disk_write(os.path.join(args.scratch, "copy.bin"), f.read())
    data_read = args.big_mb / disk_read(os.path.join(args.scratch, "copy.bin"))
    print(f"| {args.big_mb} MiB | {put:.0f} MiB/s | {data_write:.0f} MiB/s | {put / data_write:.0%} | {get:.0f} MiB/s | {data_read:.0f} MiB/s | {get / data_read:.0%} |\n")
    print(f"Server peak resident memory (VmHWM): {before:.0f} MiB before the {args.big_mb} MiB upload, "
          f"{peak:.0f} MiB after it, {peak_after_get:.0f} MiB after the download.")

if __name__ == "__main__":
    main()
