#!/usr/bin/env bash
# The longer reliability run behind docs/reliability.md: the attack corpus (with its outcome
# report), the fault drills ROUNDS times (recovery times printed), and schemathesis for
# FUZZ_SECONDS. Needs what scripts/test.sh needs (it runs scripts/install.sh and
# scripts/services.sh first). Output: reliability-report/ (one log per part + attack.json).
#
#   ROUNDS=3 FUZZ_SECONDS=600 scripts/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
OUT=${OUT:-reliability-report}
mkdir -p "$OUT"
scripts/install.sh
scripts/services.sh
PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider -q -s)

ATTACK_CORPUS_REPORT="$OUT/attack.json" "${PYTEST[@]}" tests/e2e/test_attack_corpus.py | tee "$OUT/attack.log"
for round in $(seq 1 "$ROUNDS"); do
  echo "== fault drills, round $round of $ROUNDS" | tee -a "$OUT/drills.log"
  "${PYTEST[@]}" tests/e2e/test_fault_drills.py tests/integrator/test_lifecycle.py::test_flushing_the_broker_mid_job_does_not_lose_the_job \
    | tee -a "$OUT/drills.log"
done
DFS_FUZZ_SECONDS="$FUZZ_SECONDS" DFS_FUZZ_SEED="${FUZZ_SEED:-$RANDOM}" "${PYTEST[@]}" tests/api/test_schemathesis.py \
  | tee "$OUT/schemathesis.log"

echo "== summary"
python3 - "$OUT" <<'PY'
import collections, json, re, sys
from pathlib import Path
out = Path(sys.argv[1])
outcomes = json.loads((out / "attack.json").read_text())
print(f"attack corpus: {len(outcomes)} kinds via the API:", dict(collections.Counter(outcomes.values())))
drills = (out / "drills.log").read_text()
for line in drills.splitlines():
    if re.search(r"kill -9|S3 down|backends terminated", line):
        print("drill:", line.strip())
print("drill tests:", re.findall(r"\d+ (?:passed|failed)", drills))
fuzz = (out / "schemathesis.log").read_text()
print("schemathesis:", ", ".join(re.findall(r"schemathesis: .*|\d+ (?:passed|failed)", fuzz)))
PY
