"""A stand-in for an LLM provider's Messages API, for recording the example.

It answers `POST /v1/messages` as Anthropic's API does when asked to stream
(`"stream": true`): a `text/event-stream` of `message_start`,
`content_block_delta` events carrying the text a word at a time, and
`message_stop`. The text is made from the prompt, so the same prompt always
gets the same answer. Without `"stream"` it answers one JSON message.

It serves HTTPS with a certificate for `--host`, signed by a CA it makes
with openssl in `--certs` at start (`ca.pem` there is the file to trust).

    python3 server.py --port 5799 --host llm.todo-task.test --certs /tmp/llm

prints `ready` on stdout once it listens.
"""

import argparse
import http.server
import json
import os
import ssl
import subprocess
import sys
import time

WORD_DELAY = 0.02


def make_certificates(folder, host):
    """A CA and a certificate for `host` it signed, made with openssl."""
    os.makedirs(folder, exist_ok=True)
    ca_key, ca = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr, cert = (os.path.join(folder, name) for name in ("server.key", "server.csr", "server.pem"))
    extensions = os.path.join(folder, "server.ext")
    with open(extensions, "w", encoding="utf-8") as out:
        out.write(f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\n")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=fake LLM test CA", "-keyout", ca_key, "-out", ca)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
        "-keyout", key, "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", cert)
    return cert, key


def answer_to(prompt):
    """The reply to `prompt`: the same prompt, the same words."""
    words = prompt.split()
    return "Summary: " + " ".join(words[:12]) + ("…" if len(words) > 12 else "")


def prompt_of(request):
    messages = request.get("messages") or [{}]
    content = messages[-1].get("content", "")
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        sys.stderr.write("fake-llm: " + (format % args) + "\n")

    def do_POST(self):  # noqa: N802 (the base class's name)
        length = int(self.headers.get("content-length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.reply(400, {"type": "error", "error": {"message": "not JSON"}})
        if self.path != "/v1/messages":
            return self.reply(404, {"type": "error", "error": {"message": "no such path"}})
        text = answer_to(prompt_of(request))
        model = request.get("model", "fake-model")
        if not request.get("stream"):
            return self.reply(200, message(model, text))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        start = message(model, "")
        start["content"] = []
        self.event("message_start", {"type": "message_start", "message": start})
        self.event("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
        for index, word in enumerate(text.split(" ")):
            piece = word if index == 0 else " " + word
            self.event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": piece}})
            time.sleep(WORD_DELAY)
        self.event("content_block_stop", {"type": "content_block_stop", "index": 0})
        self.event("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                     "usage": {"output_tokens": len(text.split())}})
        self.event("message_stop", {"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def event(self, name, data):
        payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def message(model, text):
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": len(text.split())}}


def serve_https(handler, port, host, certs):
    """Serves `handler` over HTTPS on 127.0.0.1:`port` with a certificate for
    `host` made in `certs`; prints `ready` once it listens."""
    cert, key = make_certificates(certs, host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="llm.todo-task.test")
    parser.add_argument("--certs", required=True, help="folder for the CA and the certificate")
    args = parser.parse_args()
    serve_https(Handler, args.port, args.host, args.certs)


if __name__ == "__main__":
    main()
