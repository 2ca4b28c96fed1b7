#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite (unit, integration, browser), lint and types.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's Chromium for the browser tests (test tools cannot download browsers here).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# Debian's dovecot for the IMAP tests (a throwaway, unprivileged server per test on 127.0.0.1).
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ] && [ "$(id -u)" = "0" ] \
  && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1
# In CI, tests that need PostgreSQL, Chromium or dovecot must run, not skip.
if [ -n "${CI:-}" ]; then export PARLEY_REQUIRE_SERVICES=1; fi
ruff check .
mypy assistant knowledge ui eval
# One-way layers (pyproject.toml [tool.importlinter]): a wrong-way import fails here.
lint-imports --no-cache
python -m pytest "$@"
# Offline evaluation + regression gate against the committed baseline (what it runs: docs/evaluation.md).
if [ "$#" -eq 0 ]; then
  EVAL_OUT="${TMPDIR:-/tmp}/parley-eval-ci"
  parley eval run eval/cases/sample_shop_questions.jsonl eval/cases/sample_shop_conversations.jsonl \
    eval/cases/cross_channel_conversations.jsonl \
    --banking 20 --out "$EVAL_OUT" --no-progress
  parley eval compare eval/baselines/offline.json "$EVAL_OUT/results.json"
fi
