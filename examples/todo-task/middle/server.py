"""The task's middle server: the service beside the workers that collects
each round's submissions, as a Prometheus task's middle server does.

Listens on 127.0.0.1:$PORT and keeps what it was told in
$DATA_DIR/submissions.json (written whole, atomically, on every change).

- `GET /health`: `{"status": "ok"}`;
- `POST /submissions` with `{"roundNumber", "todoId", "result",
  "stakingKey"}`: records the worker's submission of the round (a repeated
  one replaces it) and answers `{"recorded": N}`, the round's count;
- `GET /submissions/{round}`: `{"submissions": [...]}`, by staking key.

Python's standard library only.
"""

import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIELDS = ("roundNumber", "todoId", "result", "stakingKey")
LOCK = threading.Lock()


def store_path():
    return os.path.join(os.environ["DATA_DIR"], "submissions.json")


def load():
    try:
        with open(store_path()) as file:
            return json.load(file)
    except FileNotFoundError:
        return {}


def save(rounds):
    folder = os.path.dirname(store_path())
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".submissions.")
    with os.fdopen(handle, "w") as file:
        json.dump(rounds, file, indent=2, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, store_path())


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (the base class's name)
        if self.path == "/health":
            return self.answer(200, {"status": "ok"})
        prefix = "/submissions/"
        if self.path.startswith(prefix) and self.path[len(prefix):].isdigit():
            with LOCK:
                round_ = load().get(self.path[len(prefix):], {})
            return self.answer(200, {"submissions": sorted(round_.values(), key=lambda s: s["stakingKey"])})
        return self.answer(404, {"error": f"no {self.path}"})

    def do_POST(self):  # noqa: N802 (the base class's name)
        if self.path != "/submissions":
            return self.answer(404, {"error": f"no {self.path}"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
            submission = json.loads(self.rfile.read(length))
            missing = [field for field in FIELDS if field not in submission]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            round_ = str(int(submission["roundNumber"]))
        except (ValueError, TypeError) as error:
            return self.answer(400, {"error": f"a submission needs {', '.join(FIELDS)}: {error}"})
        with LOCK:
            rounds = load()
            rounds.setdefault(round_, {})[submission["stakingKey"]] = {
                field: submission[field] for field in FIELDS
            }
            save(rounds)
            recorded = len(rounds[round_])
        return self.answer(200, {"recorded": recorded})

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"middle server listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
