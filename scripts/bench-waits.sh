#!/usr/bin/env bash
# Measures that waiting scenarios do not hold their --jobs slot: N scenarios
# that each wait W seconds of real time (the stub with --stub-clock real),
# run with --jobs J. With slots given back while waiting this takes about W
# seconds, not N/J × W.
#
#   scripts/bench-waits.sh [N=50] [W=10] [J=2]     (BIN=path: that binary instead of a release build)
set -euo pipefail
n=${1:-50} wait=${2:-10} jobs=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq "$n"); do
  cat >"$dir/wait-$i.yaml" <<YAML
name: Waits ${wait}s (${i})
steps:
  - name: a real wait
    wait: ${wait}s
YAML
done
cd "$root"
bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/cognito-scenarios
fi
start=$(date +%s.%N)
"$bin" run "$dir" --stub-clock real --snapshots off --jobs "$jobs" --quiet
end=$(date +%s.%N)
echo "$n scenarios waiting ${wait}s each, --jobs $jobs: $(echo "$end - $start" | bc) s (one scenario: ${wait} s; held slots would take $((n * wait / jobs)) s)"
