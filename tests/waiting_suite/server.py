"""The worker of the waiting suite: answers like a task node whose work
finishes in the background.

Listens on 127.0.0.1:$PORT.
  GET /health              -> 200
  GET /verdict/<key>?after=N -> 404 "pending (call k of N)" for the first N-1
                              calls with this key, then 200 {"verdict": "pass", "calls": N}
  GET /rejected            -> 409 "submission rejected"
  GET /pending             -> 404 "not yet"
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CALLS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health":
            return self.answer(200, "ok")
        if url.path.startswith("/verdict/"):
            after = int(parse_qs(url.query).get("after", ["1"])[0])
            with LOCK:
                CALLS[url.path] = CALLS.get(url.path, 0) + 1
                calls = CALLS[url.path]
            if calls < after:
                return self.answer(404, f"pending (call {calls} of {after})")
            return self.answer(200, json.dumps({"verdict": "pass", "calls": calls}), "application/json")
        if url.path == "/rejected":
            return self.answer(409, "submission rejected")
        if url.path == "/pending":
            return self.answer(404, "not yet")
        return self.answer(400, "unknown path")


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on port {port}", flush=True)
    server.serve_forever()
