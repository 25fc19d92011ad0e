"""Worker entrypoint for prometheus-test 0.1.10, which starts every worker as
`python <server_entrypoint>`: replaces this interpreter with the todo-task
binary named by TODO_TASK_BIN, keeping the environment the runner set up
(PORT, DATABASE_PATH, MONGO_URI, MONGO_DB, TASK_ID)."""

import os
import sys

binary = os.environ.get("TODO_TASK_BIN")
if not binary:
    sys.exit("TODO_TASK_BIN is not set: it must name the todo-task binary")
os.execv(binary, [binary])
