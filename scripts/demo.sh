#!/usr/bin/env bash
# One command from a fresh machine to a running demo: install, build the sample shop and help centre
# index, and serve the chat widget on http://127.0.0.1:8000/demo (offline provider, no API key).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1
parley demo "$@"
