"""Run directories for the benchmark, built from the example's own suite files.

Each run gets fresh copies under the bench's work directory, so neither suite
writes into examples/todo-task/tests/ and every run can use its own free ports.

- `ours_suite(dest, base_port)`: config.yaml (with `base_port` replaced),
  workers.json, .env, data/ and keys/ of the example, as they are; the Rust
  harness reads it through `PROMETHEUS_TEST_CONFIG`.
- `original_suite(dest, entrypoint)`: the same suite in the form prometheus-test
  0.1.10 can run: fixtures as plain JSON (it imports with `json.load`, so
  `{"$oid": …}` and `{"$date": …}` would reach MongoDB as `$`-prefixed fields
  and be refused), a keypair file for every worker (it cannot generate them),
  absolute keypair paths in .env and a `server_entrypoint` on every worker.
- `todo_fixtures()`, `worker_keys()`: what the bare client of the limit needs.
"""

import hashlib
import json
import shutil
import socket
from pathlib import Path

import base58
from nacl.signing import SigningKey

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TESTS = REPO / "examples" / "todo-task" / "tests"
WORKERS = ("worker1", "worker2", "worker3")


def free_base_port(count=len(WORKERS)):
    """A port p such that p .. p+count-1 are free on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        held = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no run of free ports found on 127.0.0.1")


def read_config():
    """The example's config.yaml as text, and its parsed form."""
    import yaml

    text = (EXAMPLE_TESTS / "config.yaml").read_text()
    return text, yaml.safe_load(text)


def _with_base_port(config_text, base_port):
    lines = []
    replaced = False
    for line in config_text.splitlines():
        if line.startswith("base_port:"):
            line = f"base_port: {base_port}"
            replaced = True
        lines.append(line)
    if not replaced:
        lines.append(f"base_port: {base_port}")
    return "\n".join(lines) + "\n"


def _fresh_dir(dest):
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    return dest


def ours_suite(dest, base_port):
    """Copies the example's suite to `dest` with `base_port`; returns config.yaml's path."""
    dest = _fresh_dir(dest)
    text, _ = read_config()
    (dest / "config.yaml").write_text(_with_base_port(text, base_port))
    for name in ("workers.json", ".env"):
        shutil.copy(EXAMPLE_TESTS / name, dest / name)
    shutil.copytree(EXAMPLE_TESTS / "keys", dest / "keys")
    data = dest / "data"
    data.mkdir()
    for fixture in (EXAMPLE_TESTS / "data").glob("*.json"):
        if fixture.name.startswith("test_state"):
            continue
        shutil.copy(fixture, data / fixture.name)
    return dest / "config.yaml"


def _plain(value):
    """Extended JSON `{"$oid": x}` / `{"$date": x}` as the plain string x."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("$oid", "$date"):
            return next(iter(value.values()))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def todo_fixtures():
    """The example's todos, Extended JSON decoded (ObjectId, datetime)."""
    from bson import json_util

    return json_util.loads((EXAMPLE_TESTS / "data" / "todos.json").read_text())


def _keypair_bytes(task_id, worker, role):
    """A Solana-style 64-byte keypair (seed, then public key), fixed per worker and role."""
    seed = hashlib.sha256(f"bench-vs-python/{task_id}/{worker}/{role}".encode()).digest()
    signing = SigningKey(seed)
    return list(seed + bytes(signing.verify_key))


def _load_keypair_file(path):
    raw = bytes(json.loads(Path(path).read_text()))
    signing = SigningKey(raw[:32])
    return signing, base58.b58encode(bytes(signing.verify_key)).decode()


def worker_keys(task_id):
    """{worker: {"staking": (SigningKey, public), "main": (SigningKey, public)}}:
    worker1's committed keypairs, the others' fixed generated ones."""
    keys = {}
    for worker in WORKERS:
        keys[worker] = {}
        for role, committed in (("staking", "worker1_staking.json"), ("main", "worker1_main.json")):
            if worker == "worker1":
                keys[worker][role] = _load_keypair_file(EXAMPLE_TESTS / "keys" / committed)
            else:
                raw = bytes(_keypair_bytes(task_id, worker, role))
                signing = SigningKey(raw[:32])
                keys[worker][role] = (signing, base58.b58encode(bytes(signing.verify_key)).decode())
    return keys


def original_suite(dest, entrypoint):
    """Writes the suite for prometheus-test 0.1.10 to `dest`; returns config.yaml's path."""
    dest = _fresh_dir(dest)
    text, config = read_config()
    (dest / "config.yaml").write_text(text)
    task_id = config["task_id"]

    workers = json.loads((EXAMPLE_TESTS / "workers.json").read_text())
    keys_dir = dest / "keys"
    shutil.copytree(EXAMPLE_TESTS / "keys", keys_dir)
    env_lines = [(EXAMPLE_TESTS / ".env").read_text().rstrip("\n")]
    for name, worker in workers.items():
        # The original resolves keypair paths against its working directory
        # and starts `python <server_entrypoint>`; absolute paths avoid both pitfalls.
        worker["server_entrypoint"] = str(Path(entrypoint).resolve())
        if "keypairs" not in worker:
            worker["keypairs"] = {}
            for role in ("staking", "main"):
                var = f"{name.upper()}_{role.upper()}_KEYPAIR"
                path = keys_dir / f"{name}_{role}.json"
                path.write_text(json.dumps(_keypair_bytes(task_id, name, role)))
                worker["keypairs"][role] = var
                env_lines.append(f"{var}={path}")
    (dest / "workers.json").write_text(json.dumps(workers, indent=2))
    # worker1's committed keypair paths, made absolute.
    env_text = "\n".join(env_lines) + "\n"
    env_text = env_text.replace("=keys/", f"={keys_dir}/")
    (dest / ".env").write_text(env_text)

    data = dest / "data"
    data.mkdir()
    for fixture in (EXAMPLE_TESTS / "data").glob("*.json"):
        if fixture.name.startswith("test_state"):
            continue
        plain = _plain(json.loads(fixture.read_text()))
        (data / fixture.name).write_text(json.dumps(plain, indent=2, ensure_ascii=False))
    return dest / "config.yaml"
