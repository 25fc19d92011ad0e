"""The report suite's worker: a task server that logs what it is given.

Listens on 127.0.0.1:$PORT.
  GET  /health  -> 200
  POST /login   -> 200 {"session": $REPORT_SESSION}; logs the session it issued
  POST /submit  -> 200 {"accepted": true, "round": ...}; logs its API token
  POST /audit   -> 500 {"error": "audit rejected", ...} after $REPORT_AUDIT_DELAY
                   seconds (0 by default); logs its token and database URI
"""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def reply(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200, {"ok": True})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        sent = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/login":
            session = os.environ["REPORT_SESSION"]
            print(f"issued session {session}", flush=True)
            self.reply(200, {"session": session})
        elif self.path == "/submit":
            print(f"submission accepted with token {os.environ['API_TOKEN']}", flush=True)
            self.reply(200, {"accepted": True, "signature": sent.get("signature")})
        else:
            time.sleep(float(os.environ.get("REPORT_AUDIT_DELAY", "0")))
            print(f"audit rejected; token {os.environ['API_TOKEN']}, database {os.environ['MONGO_URI']}", flush=True)
            print("audit: submission signature does not match the round", file=sys.stderr, flush=True)
            self.reply(500, {"error": "audit rejected", "round": sent.get("round")})


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    print(f"listening on port {port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
