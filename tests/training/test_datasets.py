"""Dataset readers on generated DFDC-style and folder-style fixtures; identity-disjoint splits;
face extraction that resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shared.errors import InvalidRequest
from shared.training.datasets import FAKE, REAL
from shared.training.datasets.dfdc import read_dfdc
from shared.training.datasets.folder import read_folder
from shared.training.extract import ExtractConfig, extract_faces, read_index
from shared.training.split import split_by_group


@pytest.fixture(scope="module")
def small_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from shared.media.samples import make_clip

    d = tmp_path_factory.mktemp("clips")
    return {
        "real": make_clip(d / "real.mp4", "astronaut", seconds=1, width=480, height=270, fps=10),
        "other": make_clip(d / "other.mp4", "grace_hopper", seconds=1, width=480, height=270, fps=10),
    }


@pytest.fixture
def dfdc_tree(tmp_path: Path, small_clips: dict[str, Path]) -> Path:
    part = tmp_path / "dfdc" / "dfdc_train_part_0"
    part.mkdir(parents=True)
    for name in ("aaa.mp4", "bbb.mp4"):
        shutil.copy(small_clips["real"], part / name)
    shutil.copy(small_clips["other"], part / "ccc.mp4")
    meta = {
        "aaa.mp4": {"label": "REAL", "split": "train"},
        "bbb.mp4": {"label": "FAKE", "split": "train", "original": "aaa.mp4"},
        "ccc.mp4": {"label": "REAL", "split": "train"},
        "zzz.mp4": {"label": "FAKE", "split": "train", "original": "ccc.mp4"},  # listed, not downloaded
    }
    (part / "metadata.json").write_text(json.dumps(meta))
    return tmp_path / "dfdc"


def test_dfdc_reader_labels_and_groups_fakes_with_their_original(dfdc_tree: Path) -> None:
    samples = {s.path.name: s for s in read_dfdc(dfdc_tree)}
    assert set(samples) == {"aaa.mp4", "bbb.mp4", "ccc.mp4"}
    assert samples["aaa.mp4"].label == REAL and samples["bbb.mp4"].label == FAKE
    assert samples["bbb.mp4"].group == samples["aaa.mp4"].group != samples["ccc.mp4"].group


def test_dfdc_reader_rejects_bad_labels(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "metadata.json").write_text(json.dumps({"x.mp4": {"label": "MAYBE"}}))
    with pytest.raises(InvalidRequest, match="MAYBE"):
        read_dfdc(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidRequest, match="metadata.json"):
        read_dfdc(tmp_path / "empty")


def test_folder_reader_groups_by_subfolder_or_name_prefix(
    tmp_path: Path, small_clips: dict[str, Path]
) -> None:
    (tmp_path / "real" / "alice").mkdir(parents=True)
    (tmp_path / "fake").mkdir()
    shutil.copy(small_clips["real"], tmp_path / "real" / "alice" / "1.mp4")
    shutil.copy(small_clips["real"], tmp_path / "fake" / "alice__swap.mp4")
    (tmp_path / "fake" / "notes.txt").write_text("ignored")
    samples = read_folder(tmp_path)
    assert sorted((s.label, s.group) for s in samples) == [(REAL, "alice"), (FAKE, "alice")]
    with pytest.raises(InvalidRequest):
        read_folder(tmp_path / "real" / "alice")


def test_splits_never_share_a_group() -> None:
    items = list(range(200))
    groups = [f"id{i % 23}" for i in items]
    train, val = split_by_group(items, groups, 0.25, seed=3)
    assert set(train).isdisjoint(val) and len(train) + len(val) == 200
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in val})
    assert 0.05 < len(val) / 200 < 0.6  # a hash of 23 groups: near, not at, the fraction
    assert split_by_group(items, groups, 0.25, seed=3) == (train, val), "stable"
    tiny_train, tiny_val = split_by_group([1, 2], ["a", "b"], 0.2)
    assert tiny_train and tiny_val, "a tiny dataset still holds one group out"


def test_extract_faces_caches_crops_and_resumes(dfdc_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    samples = read_dfdc(dfdc_tree)
    cfg = ExtractConfig(frames_per_video=2, crop_size=96)
    summary = extract_faces(samples, out, cfg)
    assert summary["errors"] == {}
    records = read_index(out)
    assert {r.sample for r in records} == {s.id for s in samples}
    assert all((out / r.path).is_file() for r in records)
    assert {r.label for r in records} == {REAL, FAKE}
    # resume: remove one sample's outputs; only that one is redone
    victim = records[0].sample
    shutil.rmtree(out / "faces" / victim)
    stamp = {p: p.stat().st_mtime_ns for p in (out / "faces").glob("*/index.json")}
    extract_faces(samples, out, cfg)
    assert (out / "faces" / victim / "index.json").is_file()
    assert all(p.stat().st_mtime_ns == t for p, t in stamp.items()), "done samples are not redone"
    assert len(read_index(out)) == len(records)
