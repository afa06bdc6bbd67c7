#!/usr/bin/env bash
# Runs the library tests under faketime at calendar edges, so a test that
# depends on the date fails here instead of on some day of the month:
# a one-digit and a two-digit day, 29 February, and two seconds before the
# year ends (also a TOTP window boundary). The clock runs on from each start
# (`@`), and monotonic time is left alone so timers behave.
#
#   scripts/calendar-edges.sh [cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
faketime=$(scripts/tools.sh faketime)
dates=(
  "2026-12-01 00:00:00"
  "2027-03-09 23:59:30"
  "2026-12-15 12:00:29"
  "2028-02-29 12:00:00"
  "2026-12-31 23:59:58"
)
# Build once with the real clock; the dated runs only execute.
cargo test --locked --lib --no-run "$@" >/dev/null 2>&1 || cargo test --locked --lib --no-run "$@"
failed=0
for d in "${dates[@]}"; do
  echo "== library tests at $d UTC"
  if ! TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 "$faketime" -f "@$d" \
      cargo test --locked --lib "$@"; then
    echo "!! library tests failed at $d UTC" >&2
    failed=1
  fi
done
exit "$failed"
