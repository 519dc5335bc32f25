#!/usr/bin/env bash
# Lint, format check and type check (the test command runs it first; CI fails on any finding).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy shared services scripts
