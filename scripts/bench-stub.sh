#!/usr/bin/env bash
# Load benchmark: the standalone stub beside moto and cognito-local (installed
# by scripts/tools.sh), all on 127.0.0.1. Sign-ins (InitiateAuth
# USER_PASSWORD_AUTH) through the AWS SDK for Rust from 1, 4 and 16
# concurrent clients, and each server's RSS after 1,000 and after N requests.
# Prints Markdown tables. Arguments go to the bench (see benches/stub_load.rs):
#
#   scripts/bench-stub.sh                                  # everything, 100,000 requests each
#   scripts/bench-stub.sh --targets stub --seconds 5
#   scripts/bench-stub.sh --rss-requests moto=20000 --rss-requests cognito-local=20000
set -euo pipefail
cd "$(dirname "$0")/.."
# Release build (the bench profile), then run it.
exec cargo bench --locked --bench stub_load -- "$@"
