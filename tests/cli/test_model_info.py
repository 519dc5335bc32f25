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


def test_model_info_shows_how_each_checkpoint_is_served(
    untrained_checkpoint: Path, tmp_path: Path, clean_settings: None
) -> None:
    """Crop geometry, margin, size, aggregation and precision policy, of one checkpoint and of
    an ensemble whose members cut faces differently (each face is then cut once per kind)."""
    from shared.model.checkpoint import read_meta, update_meta

    wide = tmp_path / "wide.safetensors"
    wide.write_bytes(untrained_checkpoint.read_bytes())
    net = read_meta(wide).network
    update_meta(wide, network=net | {"preprocessing": net["preprocessing"] | {"face_margin": 0.5}})

    r = CliRunner().invoke(cli, ["model", "info", str(untrained_checkpoint)])
    assert r.exit_code == 0, r.output
    serving = json.loads(r.output)["serving"]
    assert serving["crop"] == {"geometry": "square", "margin": 0.3, "size": 224}
    assert serving["crops"] == [serving["crop"]]
    assert serving["aggregation"] == "mean" and serving["precision"]["cuda_backbone"] == "fp16"
    assert serving["precision"]["cpu"] == "fp32"

    r = CliRunner().invoke(cli, ["model", "info", f"{untrained_checkpoint},{wide}"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["serving"]["crop"] is None
    assert [c["margin"] for c in doc["serving"]["crops"]] == [0.3, 0.5]
    assert [m["serving"]["crop"]["margin"] for m in doc["members"]] == [0.3, 0.5]
