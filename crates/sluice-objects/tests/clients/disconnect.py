"""A client that disconnects mid-upload: signs a PUT of 1 MiB with SigV4
(botocore's signer, UNSIGNED-PAYLOAD), sends the headers and 100 KiB of the
body over a raw socket, then closes the connection.

Usage: disconnect.py BUCKET KEY (endpoint and credentials from the environment).
"""
import os
import socket
import sys
import urllib.parse

import botocore.session
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest

ENDPOINT = os.environ["S3_ENDPOINT"]
bucket, key = sys.argv[1], sys.argv[2]
declared = 1024 * 1024
url = f"{ENDPOINT}/{bucket}/{urllib.parse.quote(key)}"
request = AWSRequest(method="PUT", url=url, headers={
    "Content-Length": str(declared),
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
})
credentials = botocore.session.get_session().get_credentials()
S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)

parsed = urllib.parse.urlparse(url)
head = f"PUT {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
for name, value in request.headers.items():
    if name.lower() != "host":
        head += f"{name}: {value}\r\n"
head += "\r\n"
with socket.create_connection((parsed.hostname, parsed.port)) as connection:
    connection.sendall(head.encode())
    connection.sendall(b"x" * (100 * 1024))
print("disconnected after 100 KiB of 1 MiB")
