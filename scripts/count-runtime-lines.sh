#!/usr/bin/env bash
# Non-test lines of the runtime crate (prometheus-test/src) at a revision:
# `scripts/count-runtime-lines.sh [REV]` (default: the work tree). Test files
# (`tests/` folders, `*_tests.rs`, `golden/`) and each file's trailing
# `#[cfg(test)] mod …` are left out. Prints "code N, comments N, total N":
# code lines are those neither blank nor only a comment.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-}"

list() {
    if [[ -n "$rev" ]]; then
        git ls-tree -r --name-only "$rev" -- prometheus-test/src
    else
        git ls-files -- prometheus-test/src
    fi
}

show() {
    if [[ -n "$rev" ]]; then git show "$rev:$1"; else cat "$1"; fi
}

list | grep '\.rs$' | grep -Ev '/tests/|_tests\.rs$|/golden/' | while read -r file; do
    show "$file"
done | awk '
    /^#\[cfg\(test\)\]$/ { held = 1; next }
    held && /^(pub(\(crate\))? )?mod [a-z_]+ \{$/ { skipping = 1 }
    held { held = 0; if (!skipping) count($0); next }
    /^\}$/ && skipping { skipping = 0; next }
    skipping { next }
    { count($0) }
    function count(line) {
        total++
        if (line ~ /^[[:space:]]*$/) return
        if (line ~ /^[[:space:]]*\/\//) { comments++; return }
        code++
    }
    END { printf "code %d, comments %d, total %d\n", code, comments, total }
'
