"""The soak benchmark's task server: answers at once, logs one line a request.

Listens on 127.0.0.1:$PORT.
  GET  /health -> 200 {"ok": true}
  POST /echo   -> 200 {"echo": <the body sent>}; prints "echo <round> <step>"
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def reply(self, value):
        body = json.dumps(value).encode()
        # Status line, headers and body in one write: no delayed-ACK stall.
        head = (
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)

    def do_GET(self):
        self.reply({"ok": True})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        sent = json.loads(self.rfile.read(length) or b"{}")
        print(f"echo {sent.get('round')} {sent.get('step')}", flush=True)
        self.reply({"echo": sent})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    print(f"listening on {server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()
