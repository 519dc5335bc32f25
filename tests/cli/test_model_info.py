"""`deepfakestream model info`: the card of one checkpoint or of an ensemble, resolved the way
the workers resolve DFS_CHECKPOINT."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli.main import cli


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shared.model.checkpoint import init_checkpoint

    path = tmp_path_factory.mktemp("ckpt2") / "seed1-b0.safetensors"
    init_checkpoint(path, seed=1)
    return path


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    import os

    from shared.config import get_settings

    for key in list(os.environ):
        if key.startswith("DFS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DFS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_model_info_of_one_checkpoint(untrained_checkpoint: Path, clean_settings: None) -> None:
    r = CliRunner().invoke(cli, ["model", "info", str(untrained_checkpoint)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["name"], doc["version"], doc["trained"]) == ("srm-efficientnet-b0", "untrained", False)
    assert doc["path"] == str(untrained_checkpoint) and doc["sha256"] == _sha(untrained_checkpoint)
    assert "members" not in doc


def test_model_info_of_an_ensemble(
    untrained_checkpoint: Path, second_checkpoint: Path, clean_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [untrained_checkpoint, second_checkpoint]
    monkeypatch.setenv("DFS_CHECKPOINT", ",".join(str(p) for p in members))  # the configured default
    r = CliRunner().invoke(cli, ["model", "info"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["name"] == "ensemble(srm-efficientnet-b0+srm-efficientnet-b0)"
    assert doc["version"] == "untrained+untrained" and doc["trained"] is False
    assert doc["sha256"] == hashlib.sha256("".join(_sha(p) for p in members).encode()).hexdigest()
    assert [(m["path"], m["sha256"]) for m in doc["members"]] == [(str(p), _sha(p)) for p in members]
    assert doc["members"][1]["description"].startswith("Randomly initialised weights (seed 1)")


def test_model_info_of_a_missing_member_says_which(
    untrained_checkpoint: Path, tmp_path: Path, clean_settings: None
) -> None:
    r = CliRunner().invoke(cli, ["model", "info", f"{untrained_checkpoint},{tmp_path / 'nope.safetensors'}"])
    assert r.exit_code != 0
    assert "nope.safetensors does not exist" in r.output
