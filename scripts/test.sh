#!/usr/bin/env bash
# The test command: install (idempotent), make sure Postgres and Redis run, lint, run the suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/pipeline -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
scripts/services.sh
scripts/lint.sh
exec .venv/bin/python -m pytest "$@"
