"""Drives Sluice's S3 endpoint with boto3, as a user's program would.

Run by tests/real_clients.rs with S3_ENDPOINT, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY set; buckets `plain` (unversioned) and `versioned`
exist. Exits non-zero on the first failed check.
"""
import hashlib
import os
import time
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["S3_ENDPOINT"]
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG)


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    raise AssertionError(f"{call.__name__} succeeded but should have failed")


def check_basics():
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert {"plain", "versioned"} <= set(names), names
    s3.head_bucket(Bucket="plain")
    assert error_code(s3.head_bucket, Bucket="no-such-bucket") in ("404", "NoSuchBucket")
    assert error_code(s3.put_object, Bucket="no-such-bucket", Key="k", Body=b"x") == "NoSuchBucket"
    body = b"hello, sluice"
    put = s3.put_object(Bucket="plain", Key="events/once.txt", Body=body, ContentType="text/plain",
                        Metadata={"Owner": "ops", "stage": "raw"})
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), put["ETag"]
    head = s3.head_object(Bucket="plain", Key="events/once.txt")
    assert head["ContentType"] == "text/plain" and head["ContentLength"] == len(body), head
    assert head["Metadata"] == {"owner": "ops", "stage": "raw"}, head["Metadata"]
    ranged = s3.get_object(Bucket="plain", Key="events/once.txt", Range="bytes=7-12")
    assert ranged["Body"].read() == b"sluice" and ranged["ContentRange"] == "bytes 7-12/13", ranged
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    etag = put["ETag"]
    assert error_code(s3.get_object, Bucket="plain", Key="events/once.txt", IfNoneMatch=etag) == "304"
    assert error_code(s3.get_object, Bucket="plain", Key="events/once.txt", IfMatch='"0000"') == "PreconditionFailed"
    assert s3.get_object(Bucket="plain", Key="events/once.txt", IfMatch=etag)["Body"].read() == body
    assert error_code(s3.get_object, Bucket="plain", Key="missing") == "NoSuchKey"
    assert error_code(s3.get_object, Bucket="plain", Key="events/once.txt", Range="bytes=100-") == "InvalidRange"


def check_keys_round_trip():
    keys = ["with space.txt", "plus+sign.txt", "ünïcødé/ключ 名前.txt", "deep/a/b/c.txt", "%41 percent", "q?uestion&amp"]
    for key in keys:
        s3.put_object(Bucket="plain", Key=key, Body=key.encode())
        assert s3.get_object(Bucket="plain", Key=key)["Body"].read() == key.encode(), key
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket="plain")["Contents"]}
    assert set(keys) <= listed, listed
    for bad in ["a/../../escape", "./dot"]:
        assert error_code(s3.put_object, Bucket="plain", Key=bad, Body=b"x") in ("InvalidArgument", "400"), bad


def check_copy_and_listing():
    s3.copy_object(Bucket="plain", Key="copies/copied.txt", CopySource={"Bucket": "plain", "Key": "with space.txt"})
    assert s3.get_object(Bucket="plain", Key="copies/copied.txt")["Body"].read() == b"with space.txt"
    for i in range(7):
        s3.put_object(Bucket="plain", Key=f"page/{i:02}", Body=b"p")
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="plain", Prefix="page/", PaginationConfig={"PageSize": 3}))
    assert [len(p.get("Contents", [])) for p in pages] == [3, 3, 1], [len(p.get("Contents", [])) for p in pages]
    keys = [o["Key"] for p in pages for o in p["Contents"]]
    assert keys == [f"page/{i:02}" for i in range(7)], keys
    after = s3.list_objects_v2(Bucket="plain", Prefix="page/", StartAfter="page/04")
    assert [o["Key"] for o in after["Contents"]] == ["page/05", "page/06"]
    folders = s3.list_objects_v2(Bucket="plain", Delimiter="/")
    prefixes = [p["Prefix"] for p in folders["CommonPrefixes"]]
    assert "page/" in prefixes and "deep/" in prefixes, prefixes
    deleted = s3.delete_objects(Bucket="plain", Delete={"Objects": [{"Key": "page/00"}, {"Key": "page/01"}]})
    assert len(deleted["Deleted"]) == 2, deleted
    assert s3.list_objects_v2(Bucket="plain", Prefix="page/")["KeyCount"] == 5


def check_multipart(tmp_dir):
    path = os.path.join(tmp_dir, "big.bin")
    with open(path, "wb") as f:
        for i in range(12):
            f.write(bytes([i]) * (1024 * 1024))
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(path, "plain", "big/multipart.bin", Config=config)
    head = s3.head_object(Bucket="plain", Key="big/multipart.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == 12 * 1024 * 1024, head
    back = os.path.join(tmp_dir, "back.bin")
    s3.download_file("plain", "big/multipart.bin", back, Config=config)
    assert open(back, "rb").read() == open(path, "rb").read()
    # An aborted upload: no object, no event, parts gone.
    upload = s3.create_multipart_upload(Bucket="plain", Key="events/aborted.bin")
    s3.upload_part(Bucket="plain", Key="events/aborted.bin", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024)
    parts = s3.list_parts(Bucket="plain", Key="events/aborted.bin", UploadId=upload["UploadId"])
    assert [p["PartNumber"] for p in parts["Parts"]] == [1]
    listed = s3.list_multipart_uploads(Bucket="plain", Prefix="events/")
    assert [u["UploadId"] for u in listed["Uploads"]] == [upload["UploadId"]], listed
    s3.abort_multipart_upload(Bucket="plain", Key="events/aborted.bin", UploadId=upload["UploadId"])
    assert error_code(s3.list_parts, Bucket="plain", Key="events/aborted.bin", UploadId=upload["UploadId"]) == "NoSuchUpload"
    assert error_code(s3.head_object, Bucket="plain", Key="events/aborted.bin") in ("404", "NoSuchKey")


def check_versioning():
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="versioned", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned", Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="versioned", Key="doc", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket="versioned", Key="doc", VersionId=v2)["VersionId"] == v2
    marker = s3.delete_object(Bucket="versioned", Key="doc")
    assert marker["DeleteMarker"] is True, marker
    assert error_code(s3.get_object, Bucket="versioned", Key="doc") == "NoSuchKey"
    versions = s3.list_object_versions(Bucket="versioned", Prefix="doc")
    assert [v["VersionId"] for v in versions["Versions"]] == [v2, v1], versions
    assert versions["DeleteMarkers"][0]["IsLatest"] is True
    s3.delete_object(Bucket="versioned", Key="doc", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket="versioned", Key="doc")["Body"].read() == b"two"
    s3.delete_object(Bucket="versioned", Key="doc", VersionId=v2)
    assert s3.get_object(Bucket="versioned", Key="doc")["Body"].read() == b"one"


def check_presigned_and_auth():
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "plain", "Key": "with space.txt"}, ExpiresIn=300)
    assert urllib.request.urlopen(url).read() == b"with space.txt"
    expiring = s3.generate_presigned_url("get_object", Params={"Bucket": "plain", "Key": "with space.txt"}, ExpiresIn=1)
    time.sleep(2)
    try:
        urllib.request.urlopen(expiring)
        raise AssertionError("an expired presigned URL was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403, error.code
    wrong = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG,
                         aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong-secret")
    assert error_code(wrong.list_objects_v2, Bucket="plain") == "SignatureDoesNotMatch"
    assert error_code(wrong.put_object, Bucket="plain", Key="events/forged.txt", Body=b"x") == "SignatureDoesNotMatch"


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        check_basics()
        check_keys_round_trip()
        check_copy_and_listing()
        check_multipart(tmp)
        check_versioning()
        check_presigned_and_auth()
    print("boto3 suite passed")
