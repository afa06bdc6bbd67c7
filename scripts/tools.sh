#!/usr/bin/env bash
# Installs the pinned third-party tools the tests need into .tools/ (owned by
# the project, ignored by git) and prints where they are. Idempotent and safe
# to call from several test processes at once.
#
#   scripts/tools.sh python          -> path of a Python with moto[server] and boto3
#   scripts/tools.sh cognito-local   -> path of cognito-local's start script (run with node)
#   scripts/tools.sh js-clients      -> node_modules with amazon-cognito-identity-js
#                                       (pinned by scripts/js-clients/package-lock.json)
#   scripts/tools.sh faketime        -> path of faketime (Debian package `faketime`,
#                                       installed with apt-get when missing; needs root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9

# npm_install NAME DESCRIPTION: `npm ci` of scripts/NAME/package-lock.json
# into .tools/NAME, again only when the pinned files change.
npm_install() {
  local dir="$tools/$1" src="$root/scripts/$1" stamp
  stamp="$dir/.installed-$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "installing $2 into .tools/$1 (first use only)" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
    touch "$stamp"
  fi
}

case "${1:-}" in
  python)
    venv="$tools/python"
    req="$root/scripts/requirements-python.txt"
    stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
      echo "installing moto 5.2.5 and boto3 into .tools/python (first use only)" >&2
      rm -rf "$venv"
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
      touch "$stamp"
    fi
    echo "$venv/bin/python"
    ;;
  js-clients)
    npm_install js-clients "amazon-cognito-identity-js"
    echo "$tools/js-clients/node_modules"
    ;;
  cognito-local)
    npm_install cognito-local "cognito-local 5.3.0"
    echo "$tools/cognito-local/node_modules/cognito-local/lib/bin/start.js"
    ;;
  faketime)
    if ! command -v faketime >/dev/null 2>&1; then
      echo "installing faketime (Debian package, first use only)" >&2
      sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      $sudo apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq faketime >&2
    fi
    command -v faketime
    ;;
  *)
    echo "usage: $0 python|cognito-local|js-clients|faketime" >&2
    exit 64
    ;;
esac
