"""Drives Sluice's S3 endpoint with the aws CLI (`aws s3` and `aws s3api`).

Run by tests/real_clients.rs with S3_ENDPOINT and credentials in the
environment; bucket `cli` exists. Exits non-zero on the first failed check.
"""
import json
import os
import subprocess
import tempfile
import urllib.request

ENDPOINT = os.environ["S3_ENDPOINT"]


def aws(*args, expect_failure=False):
    command = ["aws", "--endpoint-url", ENDPOINT, "--region", "us-east-1", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if expect_failure:
        assert result.returncode != 0, f"{command} should have failed"
        return result.stderr
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def s3api(*args):
    out = aws("s3api", *args)
    return json.loads(out) if out.strip() else {}


def main(tmp):
    small = os.path.join(tmp, "small.txt")
    with open(small, "w") as f:
        f.write("from the aws cli\n")
    aws("s3", "cp", small, "s3://cli/folder with spaces/file + plus ü.txt")
    listing = aws("s3", "ls", "s3://cli/folder with spaces/")
    assert "file + plus ü.txt" in listing, listing
    back = os.path.join(tmp, "back.txt")
    aws("s3", "cp", "s3://cli/folder with spaces/file + plus ü.txt", back)
    assert open(back).read() == "from the aws cli\n"

    # Above the CLI's 8 MiB multipart threshold.
    big = os.path.join(tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(20 * 1024 * 1024))
    aws("s3", "cp", big, "s3://cli/big.bin")
    head = s3api("head-object", "--bucket", "cli", "--key", "big.bin")
    assert "-" in head["ETag"] and head["ContentLength"] == 20 * 1024 * 1024, head
    aws("s3", "cp", "s3://cli/big.bin", os.path.join(tmp, "big.back"))
    assert open(os.path.join(tmp, "big.back"), "rb").read() == open(big, "rb").read()

    s3api("copy-object", "--bucket", "cli", "--key", "copy.bin", "--copy-source", "cli/big.bin")
    assert s3api("head-object", "--bucket", "cli", "--key", "copy.bin")["ETag"] == head["ETag"]

    for i in range(5):
        aws("s3", "cp", small, f"s3://cli/many/{i}.txt")
    paged = s3api("list-objects-v2", "--bucket", "cli", "--prefix", "many/", "--page-size", "2")
    assert [o["Key"] for o in paged["Contents"]] == [f"many/{i}.txt" for i in range(5)], paged

    s3api("put-bucket-versioning", "--bucket", "cli", "--versioning-configuration", "Status=Enabled")
    assert s3api("get-bucket-versioning", "--bucket", "cli")["Status"] == "Enabled"
    aws("s3", "cp", small, "s3://cli/versioned.txt")
    aws("s3", "cp", back, "s3://cli/versioned.txt")
    versions = s3api("list-object-versions", "--bucket", "cli", "--prefix", "versioned.txt")
    assert len(versions["Versions"]) == 2, versions

    url = aws("s3", "presign", "s3://cli/folder with spaces/file + plus ü.txt", "--expires-in", "300").strip()
    assert urllib.request.urlopen(url).read() == b"from the aws cli\n"

    aws("s3", "rm", "s3://cli/many/", "--recursive")
    assert "many/" not in aws("s3", "ls", "s3://cli/")
    error = aws("s3", "ls", "s3://no-such-bucket/", expect_failure=True)
    assert "NoSuchBucket" in error, error
    print("aws cli suite passed")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(tmp)
