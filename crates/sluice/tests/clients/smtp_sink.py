"""A real SMTP server for tests (aiosmtpd): every message received is
written as one file `N.eml` in the directory given, then `ready PORT` is
printed once listening. Usage: smtp_sink.py DIR PORT
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller

directory, port = sys.argv[1], int(sys.argv[2])


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(directory, f"{self.count}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(f"ready {port}", flush=True)
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
