# Sourced by scripts/demo and scripts/test: make .venv (Python 3.11+) and install lotgraph into it.
# Needs only python3 with venv; on Debian, installs python3-venv when run as root and it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
extras=${1:-}
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "lotgraph: '$PYTHON -m venv' failed: install python3-venv (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
stamp=.venv/.lotgraph-installed$extras
if [ -z "$extras" ]; then  # any install with extras (e.g. scripts/test's "[test]") has lotgraph itself too
  for installed in .venv/.lotgraph-installed*; do
    [ -f "$installed" ] && [ ! pyproject.toml -nt "$installed" ] && stamp=$installed
  done
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  touch "$stamp"
fi
