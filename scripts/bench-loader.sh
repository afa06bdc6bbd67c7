#!/usr/bin/env bash
# Times the loader and the runner on large and hostile scenario files, so a
# change that makes their cost grow faster than the input shows up as a number.
# Timings belong here, not in tests (tests count work instead).
#
#   scripts/bench-loader.sh                 # builds the debug binary, runs every case
#   BIN=target/release/cognito-scenarios scripts/bench-loader.sh
#   LIMIT=60 scripts/bench-loader.sh        # seconds before a case is given up (default 120)
#
# Prints one line per case: seconds, peak memory, exit code (137: killed at the
# time limit, or by the memory cap).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${BIN:-}" ]; then
  cargo build --locked --quiet
  BIN="${CARGO_TARGET_DIR:-$root/target}/debug/cognito-scenarios"
fi
limit=${LIMIT:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure NAME ARGS...: runs the binary with a time limit and a 4 GB memory cap.
measure() {
  local name=$1
  shift
  local stats="$work/stats" code=0
  ( ulimit -v 4194304; exec /usr/bin/time -f '%e %M' -o "$stats" timeout -s KILL "$limit" "$BIN" "$@" --color=never ) \
    >/dev/null 2>&1 || code=$?
  local secs mem
  # The last line holds the numbers (a killed command gets a line before it).
  read -r secs mem < <(tail -n 1 "$stats" 2>/dev/null) || true
  case "$mem" in '' | *[!0-9]*) mem=0 ;; esac
  if [ "$code" = 137 ]; then secs=">$limit"; fi
  printf '%-40s %8ss %8s MB  exit %s\n' "$name" "${secs:-?}" "$((mem / 1024))" "$code"
}

# vars N: a scenario with N variables, each used once by a template.
vars() {
  awk -v n="$1" 'BEGIN {
    print "name: many vars"; print "vars:"
    for (i = 0; i < n; i++) printf "  v%d: \"value-%d-{{ target }}\"\n", i, i
    print "steps:"
    print "  - call: ListUserPools"; print "    with: { MaxResults: 1 }"
  }'
}

# big_vars BYTES: variables (plain values) filling about BYTES bytes.
big_vars() {
  awk -v bytes="$1" 'BEGIN {
    print "name: a big file of vars"; print "vars:"
    pad = "abcdefghijklmnopqrstuvwxyz0123456789"
    for (i = 0; size < bytes; i++) { line = sprintf("  v%d: value-%d-%s", i, i, pad); print line; size += length(line) + 1 }
    print "steps:"
    print "  - call: ListUserPools"; print "    with: { MaxResults: 1 }"
  }'
}

# saves N: N steps that each call the stub and save a value.
saves() {
  awk -v n="$1" 'BEGIN {
    print "name: many saves"
    print "pool: { users: [ { Username: bench-user, Password: \"Bench-Passw0rd!\" } ] }"
    print "steps:"
    for (i = 0; i < n; i++) {
      print "  - call: AdminGetUser"
      print "    with: { UserPoolId: \"{{ pool.id }}\", Username: bench-user }"
      printf "    save: { s%d: Username }\n", i
    }
  }'
}

# bomb: the "billion laughs" (9 aliases x 9 levels).
bomb() {
  echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
  local prev=a
  for l in b c d e f g h i; do
    printf '%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' $l $l $prev $prev $prev $prev $prev $prev $prev $prev $prev
    prev=$l
  done
  echo 'name: bomb'
  echo 'steps: [ { call: ListUserPools, with: { MaxResults: 1, X: *i } } ]'
}

# deep N: a `with:` nested N block mappings deep (one per line).
deep() {
  awk -v n="$1" 'BEGIN {
    print "name: deep"; print "steps:"; print "  - call: ListUserPools"; print "    with:"
    ind = "      "
    for (i = 0; i < n; i++) { printf "%sk:\n", ind; ind = ind " " }
    printf "%sv: 1\n", ind
  }'
}

# deep_seqs N: a `with:` holding N block sequences nested on one line (`- - - x`).
deep_seqs() {
  awk -v n="$1" 'BEGIN {
    print "name: deep"; print "steps:"; print "  - call: ListUserPools"; print "    with:"
    printf "      X:\n        "
    for (i = 0; i < n; i++) printf "- "
    print "x"
  }'
}

vars 10000 >"$work/vars-10000.yaml"
vars 20000 >"$work/vars-20000.yaml"
big_vars 10000000 >"$work/vars-10mb.yaml"
for n in 2500 5000 10000; do saves "$n" >"$work/saves-$n.yaml"; done
bomb >"$work/bomb.yaml"
deep 2000 >"$work/deep-2000.yaml"
deep_seqs 100000 >"$work/deep-100000.yaml"

echo "binary: $BIN (time limit ${limit}s, memory cap 4 GB)"
measure "validate 10,000 vars" validate "$work/vars-10000.yaml"
measure "validate 20,000 vars" validate "$work/vars-20000.yaml"
measure "run 10,000 vars" run "$work/vars-10000.yaml" --snapshots off
measure "run 20,000 vars" run "$work/vars-20000.yaml" --snapshots off
measure "validate 10 MB of vars" validate "$work/vars-10mb.yaml"
measure "run 10 MB of vars" run "$work/vars-10mb.yaml" --snapshots off
for n in 2500 5000 10000; do
  measure "run $n steps that save" run "$work/saves-$n.yaml" --snapshots off
done
measure "validate alias bomb (583 bytes)" validate "$work/bomb.yaml"
measure "validate 2,000 deep" validate "$work/deep-2000.yaml"
measure "run 2,000 deep" run "$work/deep-2000.yaml" --snapshots off
measure "validate 100,000 deep" validate "$work/deep-100000.yaml"
