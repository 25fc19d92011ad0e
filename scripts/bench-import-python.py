"""Times the MongoDB part of the original prometheus-test fresh run on one data file.

Usage: python3 scripts/bench-import-python.py <mongo-uri> <data-file> [database]

Mirrors prometheus_test 0.1.10 runner.py: clear_data() (delete_many({}) on the
collection) then load_data() (json.load, wrap a single object in a list, set
taskId on every item, one insert_many). Prints one line:
`elapsed_seconds=<float> documents=<int>`. Needs pymongo (4.13.2 is the last
release that talks to MongoDB 4.0).
"""

import json
import sys
import time

from pymongo import MongoClient

TASK_ID = "bench-task"
COLLECTION = "todos"


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    uri, path = sys.argv[1], sys.argv[2]
    database = sys.argv[3] if len(sys.argv) == 4 else "pt_bench_python"
    client = MongoClient(uri, serverSelectionTimeoutMS=3000)
    client.admin.command("ping")
    db = client[database]

    start = time.perf_counter()
    db[COLLECTION].delete_many({})
    with open(path) as f:
        data = json.load(f)
        if not isinstance(data, list):
            data = [data]
        for item in data:
            item["taskId"] = TASK_ID
        db[COLLECTION].insert_many(data)
    elapsed = time.perf_counter() - start

    client.close()
    print(f"elapsed_seconds={elapsed:.6f} documents={len(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
