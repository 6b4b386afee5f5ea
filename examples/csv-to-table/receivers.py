"""Local receivers for the csv-to-table example: a webhook endpoint that
checks the HMAC signature, and an SMTP sink (aiosmtpd, `pip install aiosmtpd`).
Both print what arrives.

    CSV_WEBHOOK_SECRET=demo python3 receivers.py   # webhook :8025, SMTP :2525
"""
import hashlib
import hmac
import http.server
import json
import os
import threading

from aiosmtpd.controller import Controller

SECRET = os.environ.get("CSV_WEBHOOK_SECRET", "demo").encode()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Sluice-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers.get("X-Sluice-Signature", ""))
        message = json.loads(body)
        print(f"webhook ({'signature ok' if valid else 'BAD SIGNATURE'}): {message['subject']}", flush=True)
        self.send_response(200 if valid else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


class Mail:
    async def handle_DATA(self, server, session, envelope):
        print(f"mail to {envelope.rcpt_tos}:\n{envelope.content.decode()}", flush=True)
        return "250 OK"


if __name__ == "__main__":
    Controller(Mail(), hostname="127.0.0.1", port=2525).start()
    print("webhook on http://127.0.0.1:8025/hook, SMTP on 127.0.0.1:2525", flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", 8025), Hook).serve_forever()
