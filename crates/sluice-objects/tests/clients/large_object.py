"""Uploads one large object in a single PUT and downloads it again, streaming
both ways from and to files, then checks the bytes.

Usage: large_object.py BUCKET KEY MIB (endpoint and credentials from the environment).
"""
import hashlib
import os
import sys
import tempfile

import boto3
from botocore.config import Config

bucket, key, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
with tempfile.TemporaryDirectory() as tmp:
    source = os.path.join(tmp, "source.bin")
    digest = hashlib.md5()
    with open(source, "wb") as f:
        for i in range(mib):
            block = bytes([i % 251]) * (1024 * 1024)
            digest.update(block)
            f.write(block)
    with open(source, "rb") as f:
        put = s3.put_object(Bucket=bucket, Key=key, Body=f)
    assert put["ETag"] == '"%s"' % digest.hexdigest(), put["ETag"]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    back = hashlib.md5()
    while chunk := body.read(1024 * 1024):
        back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
print(f"streamed {mib} MiB up and down")
