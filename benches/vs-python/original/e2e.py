"""The todo-task example suite (examples/todo-task/tests/steps/) ported to
prometheus-test 0.1.10: the same thirteen steps, the same requests, signed
with the package's own `create_signature`, and the same checks. The original
has no poll helper: the report step waits the way a suite written for it
would, asking again every 0.1 s.

Usage (from the suite directory layout.original_suite() builds):
    python e2e.py <config.yaml>

Runs `TestRunner(...).run(force_reset=True)` and, when it returns, writes
to $BENCH_PHASES_FILE (else prints) a JSON object of the seconds spent in each phase, measured by
wrapping the runner's own methods (behaviour unchanged):
reset = clear_data + load_data (with the post-load hook), start =
TestEnvironment.__enter__ (its 3 s sleep per worker included), steps = the
round loop, stop = __exit__ plus the final cleanup; `launch` is imports and
configuration, up to the first of those calls; `start_called` is the
time.perf_counter() (CLOCK_MONOTONIC, shared by processes) at __enter__.
"""

import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

LAUNCHED = time.perf_counter()

import requests  # noqa: E402
from bson import ObjectId  # noqa: E402
from pymongo import ASCENDING  # noqa: E402

from prometheus_test import TestRunner, TestStep  # noqa: E402
from prometheus_test.runner import TestRunner as _Runner  # noqa: E402
from prometheus_test.utils import create_signature  # noqa: E402
from prometheus_test.workers import TestEnvironment  # noqa: E402

WORKERS = ("worker1", "worker2", "worker3")


class StepFailed(Exception):
    pass


def ensure(condition, message):
    if not condition:
        raise StepFailed(message)


# --- the worker's API (steps/api.rs) ----------------------------------------


def url(worker, path):
    return f"http://127.0.0.1:{worker.get('port')}{path}"


def round_payload(runner, worker, action):
    return {
        "taskId": runner.get("task_id"),
        "roundNumber": runner.get("current_round"),
        "action": action,
        "stakingKey": worker.staking_public_key,
        "pubKey": worker.main_public_key,
    }


def audit_payload(runner, auditor, submitter_key, submission):
    return {
        "taskId": runner.get("task_id"),
        "roundNumber": runner.get("current_round"),
        "action": "audit",
        "stakingKey": auditor.staking_public_key,
        "pubKey": auditor.main_public_key,
        "submitterKey": submitter_key,
        "submission": submission,
    }


class Reply:
    def __init__(self, what, response):
        self.what = what
        self.status = response.status_code
        try:
            self.body = response.json()
        except ValueError:
            self.body = response.text

    def json(self):
        ensure(self.status == 200, f"{self.what} answered {self.status}: {self.message()}")
        return self.body

    def message(self):
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return self.body["error"]
        return json.dumps(self.body)


def post(to, path, body):
    return Reply(f"{to.get('name')} POST {path}", requests.post(url(to, path), json=body))


def post_signed(sender, to, path, payload):
    body = {
        "signature": create_signature(sender.staking_signing_key, payload),
        "stakingKey": sender.staking_public_key,
        "pubKey": sender.main_public_key,
    }
    return post(to, path, body)


def expected_result(title, description):
    return hashlib.sha256(f"{title}\n{description}".encode()).hexdigest()


# --- MongoDB (steps/db.rs) ---------------------------------------------------


def db(runner):
    return runner.mongo_client[runner.get("mongodb")["database"]]


def next_open_todo(runner, staking_key):
    return db(runner).todos.find_one(
        {"taskId": runner.get("task_id"), "status": "pending", "assignees.stakingKey": {"$ne": staking_key}},
        sort=[("createdAt", ASCENDING), ("_id", ASCENDING)],
    )


def todo_claimed_in(runner, staking_key, round_number):
    return db(runner).todos.find_one(
        {
            "taskId": runner.get("task_id"),
            "assignees": {"$elemMatch": {"stakingKey": staking_key, "round": round_number}},
        }
    )


def todo_by_id(runner, todo_id):
    todo = db(runner).todos.find_one({"_id": ObjectId(todo_id), "taskId": runner.get("task_id")})
    ensure(todo is not None, f"todo {todo_id} is not in `todos` for task {runner.get('task_id')}")
    return todo


# --- post-load hook (steps/seed.rs) -------------------------------------------


def post_load(task_id):
    def hook(database):
        todos = database.todos
        # The original imports plain JSON: give the todos the BSON types the
        # Extended JSON fixture has in the Rust suite (ObjectId, date).
        docs = list(todos.find({"taskId": task_id}))
        for doc in docs:
            doc["_id"] = ObjectId(doc["_id"])
            created = datetime.fromisoformat(doc["createdAt"].replace("Z", "+00:00"))
            doc["createdAt"] = created.astimezone(timezone.utc)
        todos.delete_many({"taskId": task_id})
        if docs:
            todos.insert_many(docs)
        reopened = todos.update_many({"taskId": task_id}, {"$set": {"status": "pending", "assignees": []}})
        if reopened.matched_count == 0:
            raise RuntimeError(f"no todos with taskId {task_id!r}: check data/todos.json and config.yaml")
        todos.create_index([("taskId", 1), ("status", 1), ("createdAt", 1)])
        database.audits.create_index([("taskId", 1), ("round", 1), ("auditor", 1), ("submitter", 1)], unique=True)

    return hook


# --- the steps ---------------------------------------------------------------
# The original has no skip: a step with nothing to do returns success.


def no_prepare(runner, worker):
    return None


def step(body):
    """The original's execute contract: a dict with `success` (and `error`)."""

    def execute(runner, worker, data):
        try:
            body(runner, worker, data)
        except StepFailed as err:
            return {"success": False, "error": str(err)}
        return {"success": True}

    return execute


def refuses_untrusted_requests(runner, worker, _):
    round_number = runner.get("current_round")
    path = f"/task/{round_number}"
    honest = round_payload(runner, worker, "task")
    impostor = runner.get_worker("worker1")

    forged = {
        "signature": create_signature(impostor.staking_signing_key, honest),
        "stakingKey": worker.staking_public_key,
        "pubKey": worker.main_public_key,
    }
    reply = post(worker, path, forged)
    ensure(reply.status == 401, f"a payload signed with another worker's key got {reply.status}: {reply.message()}")

    for field, value in (("roundNumber", round_number + 1), ("taskId", "another-task"), ("action", "audit")):
        payload = dict(honest, **{field: value})
        reply = post_signed(worker, worker, path, payload)
        ensure(
            reply.status == 400 and field in reply.message(),
            f"a payload with the wrong `{field}` got {reply.status} instead of 400 naming it: {reply.message()}",
        )

    reply = post(worker, path, {"signature": 42})
    ensure(reply.status == 400, f"a malformed body got {reply.status} instead of 400: {reply.message()}")


def do_task(runner, worker, payload):
    name = worker.get("name")
    round_number = runner.get("current_round")
    key = worker.staking_public_key
    expected = todo_claimed_in(runner, key, round_number) or next_open_todo(runner, key)

    reply = post_signed(worker, worker, f"/task/{round_number}", payload)
    if expected is None:
        ensure(reply.status == 409, f"no todo is open for {name}, so {reply.what} should answer 409; it answered {reply.status}")
        return
    ensure(reply.status != 409, f"{reply.what} answered 409 ({reply.message()}), but todo {expected['_id']} is still open")
    done = reply.json()
    ensure(done["todoId"] == str(expected["_id"]), f"{name} claimed todo {done['todoId']}, expected {expected['_id']}")
    claimed = todo_by_id(runner, done["todoId"])
    ensure(
        any(a["stakingKey"] == key and a["round"] == round_number for a in claimed.get("assignees", [])),
        f"todo {done['todoId']} does not list {name} as assignee for round {round_number}",
    )
    want = expected_result(claimed["title"], claimed["description"])
    ensure(done["result"] == want, f"{name}'s result for todo {done['todoId']} is {done['result']}, expected {want}")
    runner.set(f"todos.{name}", done["todoId"])


def does_the_task(runner, worker, prepared):
    do_task(runner, worker, prepared or round_payload(runner, worker, "task"))


def task_request(runner, worker):
    return round_payload(runner, worker, "task")


def submits(runner, worker, _):
    name = worker.get("name")
    round_number = runner.get("current_round")
    reply = post_signed(worker, worker, f"/submission/{round_number}", round_payload(runner, worker, "submission"))
    todo_id = runner.get(f"todos.{name}")
    if todo_id is None:
        ensure(reply.status == 409, f"{name} did no work in round {round_number}, so 409 was due; got {reply.status}")
        return
    ensure(reply.status != 409, f"{reply.what} answered 409 ({reply.message()}), but {name} did todo {todo_id}")
    submission = reply.json()
    expected = {
        "roundNumber": round_number,
        "todoId": todo_id,
        "result": submission.get("result"),
        "stakingKey": worker.staking_public_key,
    }
    ensure(submission == expected, f"{name}'s submission differs from its work: {submission} != {expected}")
    runner.set(f"submissions.{name}", submission)


def peer_audit(runner, worker):
    peer_name = worker.get("audits")
    submission = runner.get(f"submissions.{peer_name}")
    if submission is None:
        return None
    peer = runner.get_worker(peer_name)
    return audit_payload(runner, worker, peer.staking_public_key, submission)


def audits_its_peer(runner, worker, payload):
    if payload is None:
        return
    verdict = post_signed(worker, worker, f"/audit/{payload['roundNumber']}", payload).json()
    ensure(verdict.get("valid") is True, f"{worker.get('name')} found an honest submission invalid: {verdict.get('reason')}")


def rejects_a_forged_submission(runner, worker, _):
    round_number = runner.get("current_round")
    target = runner.get("forgery_target")
    stored = runner.get(f"submissions.{target}")
    if stored is None:
        return
    forged = dict(stored, result=expected_result("forged", stored["result"]))
    submitter = runner.get_worker(target).staking_public_key
    payload = audit_payload(runner, worker, submitter, forged)
    verdict = post_signed(worker, worker, f"/audit/{round_number}", payload).json()
    ensure(verdict.get("valid") is False, f"worker1 accepted {target}'s submission with a forged result")
    ensure("result" in (verdict.get("reason") or ""), f"unexpected reason: {verdict.get('reason')}")


def worker_named(runner, key):
    for name in WORKERS:
        if runner.get_worker(name).staking_public_key == key:
            return name
    raise StepFailed(f"an audit names staking key {key}, which is none of the workers'")


def audits_are_recorded(runner, worker, _):
    round_number = runner.get("current_round")
    task_id = runner.get("task_id")
    recorded = list(db(runner).audits.find({"taskId": task_id, "round": round_number}))
    expected = set()
    for auditor in WORKERS:
        peer = runner.get_worker(auditor).get("audits")
        submission = runner.get(f"submissions.{peer}")
        if submission is not None:
            expected.add((auditor, peer, submission["todoId"], True))
    target = runner.get("forgery_target")
    submission = runner.get(f"submissions.{target}")
    if submission is not None:
        expected.add(("worker1", target, submission["todoId"], False))
    found = {
        (worker_named(runner, a["auditor"]), worker_named(runner, a["submitter"]), a["todoId"], a["valid"])
        for a in recorded
    }
    ensure(len(found) == len(recorded) and found == expected, f"audits of round {round_number}: {found} != {expected}")

    if round_number == runner.max_rounds:
        todos = list(db(runner).todos.find({"taskId": task_id}))
        for todo in todos:
            for name in WORKERS:
                key = runner.get_worker(name).staking_public_key
                count = sum(1 for a in todo.get("assignees", []) if a["stakingKey"] == key)
                ensure(count == 1, f"todo {todo['_id']} should list {name} exactly once")
        valid = db(runner).audits.count_documents({"taskId": task_id, "valid": True})
        ensure(valid == len(todos) * len(WORKERS), f"{valid} valid audits; expected {len(todos) * len(WORKERS)}")


def reports_its_round(runner, worker, _):
    """steps/report.rs: worker1's round report is computed in the background;
    ask for it, then ask again every 0.1 s until it is there (10 s at most)."""
    round_number = runner.get("current_round")
    submission = runner.get("submissions.worker1")
    if submission is None:
        return
    path = f"/report/{round_number}"
    accepted = requests.post(url(worker, path))
    ensure(accepted.status_code == 202, f"POST {path} answered {accepted.status_code}: {accepted.text}")
    deadline = time.monotonic() + 10
    while True:
        response = requests.get(url(worker, path))
        if response.status_code == 200:
            report = response.json()
            break
        ensure(response.status_code == 404, f"GET {path} answered {response.status_code}: {response.text}")
        ensure(time.monotonic() < deadline, f"gave up waiting for worker1's report of round {round_number}")
        time.sleep(0.1)
    digest = hashlib.sha256(submission["result"].encode()).hexdigest()
    ensure(
        (report["round"], report["todoId"], report["resultDigest"]) == (round_number, submission["todoId"], digest),
        f"worker1's report {report} does not match its submission {submission}",
    )


STEPS = [
    TestStep("worker3_refuses_untrusted_requests", "forged and misdirected requests", "worker3",
             no_prepare, step(refuses_untrusted_requests)),
    TestStep("worker1_does_the_task", "worker1 claims a todo", "worker1", no_prepare, step(does_the_task)),
    TestStep("worker2_does_the_task", "worker2 claims a todo", "worker2", task_request, step(does_the_task)),
    TestStep("worker3_does_the_task", "worker3 claims a todo", "worker3", no_prepare, step(does_the_task)),
    TestStep("worker1_submits", "worker1 submits", "worker1", no_prepare, step(submits)),
    TestStep("worker2_submits", "worker2 submits", "worker2", no_prepare, step(submits)),
    TestStep("worker3_submits", "worker3 submits", "worker3", no_prepare, step(submits)),
    TestStep("worker2_audits_its_peer", "worker2 audits", "worker2", peer_audit, step(audits_its_peer)),
    TestStep("worker3_audits_its_peer", "worker3 audits", "worker3", peer_audit, step(audits_its_peer)),
    TestStep("worker1_audits_its_peer", "worker1 audits", "worker1", peer_audit, step(audits_its_peer)),
    TestStep("worker1_rejects_a_forged_submission", "a forged submission fails", "worker1",
             no_prepare, step(rejects_a_forged_submission)),
    TestStep("audits_are_recorded", "audits in MongoDB", "worker1", no_prepare, step(audits_are_recorded)),
    TestStep("worker1_reports_its_round", "worker1's round report", "worker1", no_prepare, step(reports_its_round)),
]


# --- phase timing ------------------------------------------------------------

PHASES = {"launch": 0.0, "reset": 0.0, "start": 0.0, "steps": 0.0, "stop": 0.0}
MARKS = {}


def timed(phase, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        MARKS.setdefault("first", started)
        try:
            return function(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - started

    return wrapper


def report(phases):
    """Writes the phases to $BENCH_PHASES_FILE (stdout is shared with the
    runner's worker-output threads, which can split any line)."""
    path = os.environ.get("BENCH_PHASES_FILE")
    if path:
        Path(path).write_text(json.dumps(phases))
    else:
        print(json.dumps(phases))


def main():
    config = Path(sys.argv[1]).resolve()
    import yaml

    task_id = yaml.safe_load(config.read_text())["task_id"]
    base_port = int(sys.argv[2]) if len(sys.argv) > 2 else None

    _Runner.clear_data = timed("reset", _Runner.clear_data)
    _Runner.load_data = timed("reset", _Runner.load_data)
    enter, leave, cleanup = TestEnvironment.__enter__, TestEnvironment.__exit__, TestEnvironment._cleanup
    processes = []

    def entered(env):
        MARKS["start_called"] = time.perf_counter()
        result = timed("start", enter)(env)
        processes.extend(w.process for w in env.workers.values())
        MARKS["steps"] = time.perf_counter()
        return result

    def exiting(env, *exc):
        if "steps" in MARKS:
            PHASES["steps"] = time.perf_counter() - MARKS.pop("steps")
        return timed("stop", leave)(env, *exc)

    TestEnvironment.__enter__ = entered
    TestEnvironment.__exit__ = exiting
    TestEnvironment._cleanup = timed("stop", cleanup)

    overrides = {"post_load_callback": post_load(task_id)}
    if base_port is not None:
        overrides["base_port"] = base_port
    runner = TestRunner(steps=STEPS, config_file=config, config_overrides=overrides)
    try:
        runner.run(force_reset=True)
        PHASES["launch"] = MARKS["first"] - LAUNCHED
        PHASES["start_called"] = MARKS["start_called"]
        PHASES["done"] = time.perf_counter()
        report(PHASES)
    finally:
        # Not timed: the original only sends SIGTERM; reap the servers so the
        # next run starts on a quiet machine and none is left behind.
        for process in processes:
            if process is not None:
                process.wait()


if __name__ == "__main__":
    main()
