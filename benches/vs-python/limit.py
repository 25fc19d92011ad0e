"""The physical limit of one run of the todo-task suite, phase by phase.

Usage: python limit.py <todo-task binary> <work dir>     (MONGO_URI in the environment)

- reset: a new MongoClient, then the writes a fresh run makes: delete_many on
  `todos` and `audits`, one insert_many of the fixtures (with taskId), the
  post-load hook's update_many and its two create_index.
- start: the three todo-task servers spawned at once by hand, each polled with
  a TCP connect every 0.5 ms until its port accepts.
- steps: every request of every round, prebuilt and signed before the clock
  starts (the todo each worker claims is known from the fixtures), written as
  raw HTTP/1.1 bytes over one kept-alive socket per worker and read back with
  only the status line and Content-Length parsed; interleaved with the same
  MongoDB reads the steps make, on the connected client. The round report,
  computed in the background by worker1, is asked for again every 0.5 ms
  until it is there, so it is seen as soon as it exists. Every status is
  checked, so a limit that skipped work would fail.
- stop: SIGTERM to the three servers and wait for them to exit.

The servers' output goes to <work dir>/<worker>.out (one line per request,
with the server's own time).

Writes a JSON object of the phases (seconds) to $BENCH_PHASES_FILE, else prints it.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bson import ObjectId
from pymongo import ASCENDING, MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import layout  # noqa: E402
from prometheus_test.utils import create_signature  # noqa: E402


def result_of(title, description):
    return hashlib.sha256(f"{title}\n{description}".encode()).hexdigest()


def reset(uri, database, task_id, fixtures):
    client = MongoClient(uri)
    db = client[database]
    db.todos.delete_many({})
    db.audits.delete_many({})
    docs = [dict(doc, taskId=task_id) for doc in fixtures]
    db.todos.insert_many(docs)
    db.todos.update_many({"taskId": task_id}, {"$set": {"status": "pending", "assignees": []}})
    db.todos.create_index([("taskId", 1), ("status", 1), ("createdAt", 1)])
    db.audits.create_index([("taskId", 1), ("round", 1), ("auditor", 1), ("submitter", 1)], unique=True)
    return client


def start(binary, base_port, env, data_dir, log_dir):
    processes = []
    for index, name in enumerate(layout.WORKERS):
        worker_env = dict(env, PORT=str(base_port + index), DATABASE_PATH=str(data_dir / f"database_{name}.db"))
        with open(log_dir / f"{name}.out", "wb") as out:
            processes.append(subprocess.Popen([binary], env=worker_env, stdout=out, stderr=subprocess.STDOUT))
    pending = {base_port + i for i in range(len(layout.WORKERS))}
    deadline = time.perf_counter() + 30
    try:
        while pending:
            for port in list(pending):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        pending.discard(port)
            if pending:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"ports {sorted(pending)} not accepting after 30 s")
                time.sleep(0.0005)
    except BaseException:
        stop(processes)
        raise
    return processes


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait()


def plan(task_id, keys, fixtures, rounds, base_port, audits, forgery_target):
    """[(round, kind, worker, raw request bytes or None, expected status)] in step order;
    `audits` maps each worker to the peer it audits (workers.json)."""
    order = sorted(fixtures, key=lambda d: (d["createdAt"], d["_id"]))
    port = {name: base_port + i for i, name in enumerate(layout.WORKERS)}
    pub = {name: (keys[name]["staking"][1], keys[name]["main"][1]) for name in layout.WORKERS}

    def raw(worker, path, body):
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port[worker]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data

    def bare(method, worker, path):
        return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port[worker]}\r\nContent-Length: 0\r\n\r\n".encode()

    def signed(sender, payload, claimed=None):
        staking, main = pub[claimed or sender]
        return {
            "signature": create_signature(keys[sender]["staking"][0], payload),
            "stakingKey": staking,
            "pubKey": main,
        }

    def payload(worker, action, round_number):
        staking, main = pub[worker]
        return {"taskId": task_id, "roundNumber": round_number, "action": action, "stakingKey": staking, "pubKey": main}

    requests = []
    for r in range(1, rounds + 1):
        todo = order[r - 1] if r <= len(order) else None
        path = f"/task/{r}"
        honest = payload("worker3", "task", r)
        requests.append((r, "auth", "worker3", raw("worker3", path, signed("worker1", honest, "worker3")), 401))
        for field, value in (("roundNumber", r + 1), ("taskId", "another-task"), ("action", "audit")):
            requests.append((r, "auth", "worker3", raw("worker3", path, signed("worker3", dict(honest, **{field: value}))), 400))
        requests.append((r, "auth", "worker3", raw("worker3", path, {"signature": 42}), 400))
        for w in layout.WORKERS:
            requests.append((r, "task", w, raw(w, f"/task/{r}", signed(w, payload(w, "task", r))), 200 if todo else 409))
        for w in layout.WORKERS:
            body = signed(w, payload(w, "submission", r))
            requests.append((r, "submission", w, raw(w, f"/submission/{r}", body), 200 if todo else 409))
        if todo:
            result = result_of(todo["title"], todo["description"])
            submission = {w: {"roundNumber": r, "todoId": str(todo["_id"]), "result": result, "stakingKey": pub[w][0]}
                          for w in layout.WORKERS}
            for auditor in ("worker2", "worker3", "worker1"):
                peer = audits[auditor]
                audit = dict(payload(auditor, "audit", r), submitterKey=pub[peer][0], submission=submission[peer])
                requests.append((r, "audit", auditor, raw(auditor, f"/audit/{r}", signed(auditor, audit)), 200))
            forged = dict(submission[forgery_target], result=result_of("forged", result))
            audit = dict(payload("worker1", "audit", r), submitterKey=pub[forgery_target][0], submission=forged)
            requests.append((r, "forged", "worker1", raw("worker1", f"/audit/{r}", signed("worker1", audit)), 200))
        requests.append((r, "checks", "worker1", None, None))
        if todo:
            requests.append((r, "report", "worker1", bare("POST", "worker1", f"/report/{r}"), 202))
            requests.append((r, "report-ready", "worker1", bare("GET", "worker1", f"/report/{r}"), 200))
    return requests


def exchange(sock, request, buffer):
    """Sends `request`, returns (status, body bytes, leftover)."""
    sock.sendall(request)
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        rest += chunk
    return status, rest[:length], rest[length:]


def steps(requests, base_port, db, task_id, keys, rounds):
    sockets, buffers = {}, {}
    for r, kind, worker, request, want in requests:
        key = keys[worker]["staking"][1]
        if kind == "task":
            # The step's reads: the todo already claimed this round, else the next open one; after, the claim.
            db.todos.find_one({"taskId": task_id, "assignees": {"$elemMatch": {"stakingKey": key, "round": r}}}) or \
                db.todos.find_one({"taskId": task_id, "status": "pending", "assignees.stakingKey": {"$ne": key}},
                                  sort=[("createdAt", ASCENDING), ("_id", ASCENDING)])
        if kind == "checks":
            list(db.audits.find({"taskId": task_id, "round": r}))
            if r == rounds:
                list(db.todos.find({"taskId": task_id}))
                db.audits.count_documents({"taskId": task_id, "valid": True})
            continue
        if worker not in sockets:
            sockets[worker] = socket.create_connection(("127.0.0.1", base_port + layout.WORKERS.index(worker)))
            sockets[worker].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffers[worker] = b""
        status, body, buffers[worker] = exchange(sockets[worker], request, buffers[worker])
        while kind == "report-ready" and status == 404:
            time.sleep(0.0005)
            status, body, buffers[worker] = exchange(sockets[worker], request, buffers[worker])
        if status != want:
            raise RuntimeError(f"round {r} {kind} on {worker}: status {status}, expected {want}: {body[:200]!r}")
        if kind == "task" and status == 200:
            db.todos.find_one({"_id": ObjectId(json.loads(body)["todoId"]), "taskId": task_id})
    for sock in sockets.values():
        sock.close()


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    uri = os.environ["MONGO_URI"]
    _, config = layout.read_config()
    task_id, database = config["task_id"], config["mongodb"]["database"]
    fixtures = layout.todo_fixtures()
    keys = layout.worker_keys(task_id)
    rounds = len(fixtures) + 1
    base_port = layout.free_base_port()
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in [*data_dir.glob("*.db"), *work.glob("*.out")]:
        old.unlink()
    workers = json.loads((layout.EXAMPLE_TESTS / "workers.json").read_text())
    audits = {name: workers[name]["audits"] for name in layout.WORKERS}
    requests = plan(task_id, keys, fixtures, rounds, base_port, audits, config["forgery_target"])
    env = dict(os.environ, MONGO_DB=database, TASK_ID=task_id)

    phases = {}
    t = time.perf_counter()
    client = reset(uri, database, task_id, fixtures)
    phases["reset"] = time.perf_counter() - t

    t = time.perf_counter()
    processes = start(binary, base_port, env, data_dir, work)
    phases["start"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        steps(requests, base_port, client[database], task_id, keys, rounds)
        phases["steps"] = time.perf_counter() - t
    finally:
        t = time.perf_counter()
        stop(processes)
        phases["stop"] = time.perf_counter() - t
    phases["requests"] = sum(1 for r in requests if r[3] is not None)
    client.close()
    phases["done"] = time.perf_counter()
    path = os.environ.get("BENCH_PHASES_FILE")
    if path:
        Path(path).write_text(json.dumps(phases))
    else:
        print(json.dumps(phases))


if __name__ == "__main__":
    main()
