#!/usr/bin/env bash
# Creates .venv and installs Parley with its dev tools. Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
# The CPU build of torch must be in place before sentence-transformers asks for "torch":
# an unpinned torch pulls gigabytes of CUDA wheels.
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[dev]"
