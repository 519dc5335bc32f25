"""`deepfakestream analyze`: the in-process runner, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import REPO_ROOT


def run_cli(
    *args: str, env_extra: dict[str, str] | None = None, tmp: Path
) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DFS_")}
    env |= {"PYTHONPATH": str(REPO_ROOT), "DFS_DATA_DIR": str(tmp / "data")} | (env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )


def test_analyze_a_clip_prints_a_summary(face_clip: Path, untrained_checkpoint: Path, tmp_path: Path) -> None:
    r = run_cli("analyze", str(face_clip), "--checkpoint", str(untrained_checkpoint), tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("astronaut.mp4: ")
    assert "untrained" in out and "warning" in out
    assert out.count("segment ") == 3
    assert "854x480" in out


def test_analyze_json_has_the_api_result_shape(
    face_image: Path, untrained_checkpoint: Path, tmp_path: Path
) -> None:
    r = run_cli(
        "analyze",
        str(face_image),
        "--json",
        "--faces",
        tmp=tmp_path,
        env_extra={"DFS_CHECKPOINT": str(untrained_checkpoint)},
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["media"]["kind"] == "image"
    assert set(doc["result"]) >= {"verdict", "probability", "threshold", "model", "segments", "faces_scored"}
    assert doc["result"]["faces_scored"] == len(doc["faces"]) >= 1
    assert doc["timings"]["total_s"] > 0


def test_analyze_no_face(noface_clip: Path, untrained_checkpoint: Path, tmp_path: Path) -> None:
    r = run_cli(
        "analyze", str(noface_clip), "--json", "--checkpoint", str(untrained_checkpoint), tmp=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"]["verdict"] == "no_face"


@pytest.mark.parametrize(
    ("fixture", "code", "message"),
    [
        ("text_file", 3, "error: unsupported media type: "),
        ("corrupt_clip", 4, "error: media could not be decoded: "),
        (None, 6, "error: not found: "),
    ],
)
def test_bad_input_is_one_readable_line_and_a_distinct_exit_code(
    request: pytest.FixtureRequest,
    fixture: str | None,
    code: int,
    message: str,
    untrained_checkpoint: Path,
    tmp_path: Path,
) -> None:
    path = request.getfixturevalue(fixture) if fixture else tmp_path / "missing.mp4"
    r = run_cli("analyze", str(path), "--checkpoint", str(untrained_checkpoint), tmp=tmp_path)
    assert r.returncode == code
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    assert r.stdout == ""


def test_missing_checkpoint_is_a_clear_error(face_image: Path, tmp_path: Path) -> None:
    r = run_cli("analyze", str(face_image), "--checkpoint", str(tmp_path / "nope.safetensors"), tmp=tmp_path)
    assert r.returncode == 9
    assert r.stderr.strip().startswith("error: model checkpoint error: ")


def test_a_checkpoint_from_other_code_is_refused(face_image: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    bogus = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(bogus), metadata={"format": "pt"})
    r = run_cli("analyze", str(face_image), "--checkpoint", str(bogus), tmp=tmp_path)
    assert r.returncode == 9
    assert "no DeepfakeStream metadata" in r.stderr


def test_sample_command_makes_media(tmp_path: Path) -> None:
    r = run_cli(
        "sample", str(tmp_path / "s.mp4"), "--seconds", "1", "--width", "320", "--height", "240", tmp=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s.mp4").stat().st_size > 1000
