"""The README's promises stay true: its commands exist and its configuration table is current."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.services import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))


def test_readme_configuration_table_matches_the_settings() -> None:
    from update_readme_config import README, render

    text = README.read_text()
    assert render(text) == text, "run scripts/update_readme_config.py"


def test_readme_commands_exist_and_are_executable() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert script in text
        assert os.access(REPO_ROOT / script, os.X_OK)
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci, "CI runs the README's test command"


def test_docs_linked_from_readme_exist() -> None:
    import re

    text = (REPO_ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert Path(REPO_ROOT / link).is_file(), link
