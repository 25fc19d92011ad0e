#!/usr/bin/env bash
# The soak benchmark: the suite in prometheus-test/examples/soak.rs (ten
# steps a round on three python workers, one small POST each) played for
# SOAK_ROUNDS rounds (1,000 by default) as one run of its `main!()` binary.
# Prints the median step overhead (step time minus its HTTP exchanges) per
# tenth of the run and the last/first ratio, the peak RSS at round 100 and at
# the last round, the bytes written to disk per step, the HTML report's size
# and its open time in headless Chromium (when one can be had).
#
#   scripts/bench-soak.sh                    # 1,000 rounds, debug build (as `cargo test` builds)
#   SOAK_ROUNDS=300 scripts/bench-soak.sh
#   BENCH_PROFILE=release scripts/bench-soak.sh
#   SOAK_STATE=0 scripts/bench-soak.sh       # the steps store nothing in the state
#
# Works in target/bench-soak/ (config, state file, report); the suite's own
# ports are free ones picked at the start.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${SOAK_ROUNDS:-1000}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "SOAK_ROUNDS=$rounds: expected a positive whole number of rounds" >&2
  exit 2
fi
profile="${BENCH_PROFILE:-dev}"
echo "building the soak suite ($profile)" >&2
cargo build --locked -p prometheus-test --example soak --profile "$profile" >&2
target="${CARGO_TARGET_DIR:-$PWD/target}"
dir="$profile"
if [ "$profile" = dev ]; then
  dir=debug
fi
binary="$target/$dir/examples/soak"

# shellcheck source=lib/chromium.sh
source scripts/lib/chromium.sh
chromium=""
if ensure_chromium; then
  chromium="$PROMETHEUS_TEST_CHROMIUM"
else
  echo "no headless Chromium: the report's open time is not measured" >&2
fi
SOAK_ROUNDS="$rounds" python3 benches/soak/drive.py "$binary" "$PWD/target/bench-soak" "$chromium"
