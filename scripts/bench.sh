#!/usr/bin/env bash
# Whole-process benchmarks, side by side in one run (timings live here, never
# in tests). Builds the release binary, installs moto and boto3 with
# scripts/tools.sh, and prints a Markdown table: the median wall time and peak
# RSS of each case, and the ratios the README quotes. Then the in-process
# harness (benches/inprocess.rs, divan): SRP, RS256 sign-ins in the stub,
# scrubbing, loading, one scenario end to end.
#
#   scripts/bench.sh                 # every case, 5 runs each (1 run for the 1,000 and 5,000 cases)
#   scripts/bench.sh --base a07fb7a  # also a commit's binary, alternating with this one, case by case
#   RUNS=9 scripts/bench.sh          # more runs for the small cases
#   SKIP_MOTO=1 scripts/bench.sh     # without the moto / boto3 cases
#   SKIP_INPROCESS=1 scripts/bench.sh   # without the in-process harness
#   scripts/bench.sh --load          # also the standalone stub's sign-in throughput (scripts/bench-stub.sh, 8 clients)
#
# --base REV exports REV's tree into target/bench-base/REV and builds it there
# once (a cold release build: minutes); its bundled-suite case runs REV's own
# scenarios/. Each run of a case alternates the two binaries, so both see the
# same machine.
#
# Cases:
#   bundled suite          `run` of scenarios/ on the stub (default jobs)
#   one scenario           `run` of one generated scenario on the stub
#   100 / 1,000 / 5,000    generated scenarios on the stub (--snapshots off)
#   moto 1 / 20 flows      the runner against a moto server started here,
#                          beside the same calls made by boto3 (scripts/bench/flow.py)
#
# The generated scenario: a pool and client (the fixture), SignUp,
# AdminConfirmSignUp, USER_PASSWORD_AUTH sign-in, GetUser, USER_SRP_AUTH
# sign-in with its PASSWORD_VERIFIER answer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-5}
load=0
base=
while [ $# -gt 0 ]; do
  case $1 in
    --load) load=1 ;;
    --base) base=${2:?--base needs a commit}; shift ;;
    *) echo "usage: scripts/bench.sh [--base REV] [--load]" >&2; exit 64 ;;
  esac
  shift
done
cargo build --release --locked --quiet
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/release/cognito-scenarios"
base_bin=
if [ -n "$base" ]; then
  rev=$(git rev-parse --short "$base^{commit}")
  base_root="$target_dir/bench-base/$rev"
  if [ ! -d "$base_root/src" ]; then
    mkdir -p "$base_root"
    git archive "$rev" | tar -x -C "$base_root"
  fi
  echo "building $rev in $base_root (once)" >&2
  (cd "$base_root" && CARGO_TARGET_DIR="$base_root/target" cargo build --release --locked --quiet)
  base_bin="$base_root/target/release/cognito-scenarios"
fi
work=$(mktemp -d)
moto_pid=
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# generate DIR N [FLOW]: N numbered copies of scripts/bench/generated-flow.yaml
# in DIR (FLOW=password: without the SRP sign-in).
generate() {
  local dir=$1 n=$2 flow=${3:-full} body
  mkdir -p "$dir"
  body=$(grep -v '^#' scripts/bench/generated-flow.yaml | tail -n +2)
  [ "$flow" = password ] && body=${body%%  # password-only flows stop here*}
  for i in $(seq "$n"); do
    printf 'name: generated flow %s\n%s\n' "$i" "$body" >"$dir/flow-$i.yaml"
  done
}

# measure RUNS DIR COMMAND...: prints "median_seconds peak_kib" over RUNS runs
# of COMMAND in DIR; fails if a run fails. `BIN` in COMMAND is this commit's
# binary; with --base the same runs alternate with the base binary (in the
# base tree when DIR is "."), and the line holds both: "now_s now_kib base_s base_kib".
measure() {
  local n=$1 dir=$2
  shift 2
  local times=() mem=0 btimes=() bmem=0
  for _ in $(seq "$n"); do
    one "$dir" "$bin" "$@"
    times+=("$secs")
    [ "$kib" -gt "$mem" ] && mem=$kib
    if [ -n "$base_bin" ]; then
      local bdir=$dir
      [ "$dir" = . ] && bdir=$base_root
      one "$bdir" "$base_bin" "$@"
      btimes+=("$secs")
      [ "$kib" -gt "$bmem" ] && bmem=$kib
    fi
  done
  if [ -n "$base_bin" ]; then
    echo "$(median "${times[@]}") $mem $(median "${btimes[@]}") $bmem"
  else
    echo "$(median "${times[@]}") $mem"
  fi
}
one() { # DIR BINARY COMMAND...: sets secs and kib
  local dir=$1 binary=$2
  shift 2
  local args=()
  for a in "$@"; do [ "$a" = BIN ] && args+=("$binary") || args+=("$a"); done
  (cd "$dir" && /usr/bin/time -f '%e %M' -o "$work/stats" "${args[@]}" >"$work/out" 2>&1) || {
    echo "bench: failed: ${args[*]}" >&2
    tail -20 "$work/out" >&2
    exit 1
  }
  read -r secs kib <"$work/stats"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row() { # NAME "SECONDS KIB [BASE_SECONDS BASE_KIB]" [NOTE]
  local secs kib bsecs bkib
  read -r secs kib bsecs bkib <<<"$2"
  local mib
  mib=$(echo "$kib / 1024" | bc -l)
  if [ -n "$base_bin" ] && [ -n "$bsecs" ]; then
    printf '| %s | %.3f s | %.1f MiB | %.3f s | %.1f MiB | %s× | %s |\n' "$1" "$bsecs" \
      "$(echo "$bkib / 1024" | bc -l)" "$secs" "$mib" "$(ratio "$bsecs" "$secs")" "${3:-}"
  else
    printf '| %s | %.3f s | %.1f MiB | %s |\n' "$1" "$secs" "$mib" "${3:-}"
  fi
}
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

generate "$work/one" 1
generate "$work/g100" 100
generate "$work/g1000" 1000
generate "$work/g5000" 5000
stub=(BIN run --snapshots off --color=never --quiet)

if [ -n "$base_bin" ]; then
  echo "| case | $rev: wall | $rev: peak RSS | now: wall | now: peak RSS | speed-up | note |"
  echo "|---|---|---|---|---|---|---|"
else
  echo "| case | median wall | peak RSS | note |"
  echo "|---|---|---|---|"
fi
bundled=$(measure "$runs" . BIN run --color=never --quiet)
row "bundled suite ($(find scenarios -name '*.yaml' -not -path '*/flows/*' | wc -l) scenarios, stub)" "$bundled"
one=$(measure "$runs" "$work" "${stub[@]}" "$work/one")
row "one generated scenario (stub)" "$one"
g100=$(measure "$runs" "$work" "${stub[@]}" "$work/g100")
row "100 generated scenarios (stub)" "$g100"
g1000=$(measure 1 "$work" "${stub[@]}" "$work/g1000")
row "1,000 generated scenarios (stub)" "$g1000"
g5000=$(measure 1 "$work" "${stub[@]}" "$work/g5000")
read -r s1000 _ <<<"$g1000"
read -r s5000 _ <<<"$g5000"
row "5,000 generated scenarios (stub)" "$g5000" "$(ratio "$s5000" "$s1000")× the 1,000 case (5.00 is linear)"

if [ -z "${SKIP_MOTO:-}" ]; then
  python=$(scripts/tools.sh python)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$(dirname "$python")/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break
    sleep 0.1
  done
  endpoint="http://127.0.0.1:$port"
  generate "$work/m1" 1 password
  generate "$work/m20" 20 password
  for n in 1 20; do
    ours=$(measure "$runs" "$work" BIN run "$work/m$n" --target "endpoint=$endpoint" --jobs 1 --color=never --quiet)
    theirs=$(base_bin='' measure "$runs" . "$python" scripts/bench/flow.py "$endpoint" "$n")
    read -r a _ <<<"$ours"
    read -r b _ <<<"$theirs"
    row "moto, $n flow(s): the runner" "$ours" "$(ratio "$a" "$b")× boto3's wall time"
    base_bin='' row "moto, $n flow(s): boto3" "$theirs"
  done
fi

if [ -z "${SKIP_INPROCESS:-}" ]; then
  echo
  echo "In-process (benches/inprocess.rs, divan; median of its samples):"
  cargo bench --locked --quiet --bench inprocess
fi

if [ "$load" = 1 ]; then
  echo
  # cognito-local serves ~200 sign-ins/s: its RSS is read after 5,000, not 100,000.
  scripts/bench-stub.sh --clients 8 --seconds 5 --rss-requests moto=10000 --rss-requests cognito-local=5000
fi
