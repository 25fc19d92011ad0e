"""A task server shaped like Flask/werkzeug development servers.

Python's stdlib `http.server` speaking HTTP/1.1 (so connections are kept
alive), one thread per connection, answering every POST with a small JSON
body. As werkzeug does, it writes the status line and headers in one `send`
and the body in a second one, and leaves Nagle's algorithm on.

Binds 127.0.0.1 on the port in $PORT (0, the default, picks a free one) and
prints `listening on port N` once it accepts connections. Each answer
carries `connection`, the serial number (from 1) of the TCP connection it was
sent on, so a caller can count the connections it used.
"""

import itertools
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


CONNECTIONS = itertools.count(1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):  # once per connection
        super().setup()
        self.connection_number = next(CONNECTIONS)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"null")
        fields = sorted(request) if isinstance(request, dict) else []
        body = json.dumps({"ok": True, "fields": fields, "connection": self.connection_number}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()  # first write: status line and headers
        self.wfile.write(body)  # second write: the body

    def log_message(self, format, *args):
        pass


def serve():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    server.daemon_threads = True
    print(f"listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve()
