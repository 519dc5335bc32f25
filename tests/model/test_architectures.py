"""The model package has no import circle, and the model card (what the API reads) needs no torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.support.services import REPO_ROOT

MODEL_DIR = REPO_ROOT / "shared" / "model"


def _imports(path: Path) -> set[str]:
    """The shared.model modules a file imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shared.model."):
            found.add(node.module.removeprefix("shared.model."))
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("shared.model.") for a in node.names if a.name.startswith("shared.model.")
            }
    return found


def test_shared_model_modules_import_without_a_circle() -> None:
    graph = {p.stem: _imports(p) for p in MODEL_DIR.glob("*.py") if p.stem != "__init__"}
    assert graph["preprocessing"] == set(), "preprocessing must stay a leaf"
    assert graph["architectures"] <= {"preprocessing"}, "architectures imports only the preprocessing leaf"
    assert "checkpoint" not in graph["card"] and "network" not in graph["card"]
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import circle: " + " -> ".join([*trail, node])
        state[node] = "open"
        for dep in graph.get(node, set()):
            visit(dep, [*trail, node])
        state[node] = "done"

    for module in graph:
        visit(module, [])


def test_the_card_of_an_ensemble_is_read_without_torch(untrained_checkpoint: Path, tmp_path: Path) -> None:
    script = f"""
import json, sys
from shared.config import Settings
from shared.model.card import read_card
card = read_card({f"{untrained_checkpoint},{untrained_checkpoint}"!r}, Settings(data_dir={str(tmp_path)!r}))
print(json.dumps({{"members": len(card.members), "input": card.meta.network_config.input_size,
                  "torch": "torch" in sys.modules}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"members": 2, "input": 224, "torch": False}
