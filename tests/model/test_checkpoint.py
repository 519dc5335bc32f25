"""Checkpoints as model cards: round trip, refusals, the DFDC-winner importer, ensembles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from torch import nn

from shared.config import Settings
from shared.errors import ModelError
from shared.model.card import parse_checkpoint_setting
from shared.model.checkpoint import init_checkpoint, load_checkpoint, read_meta, update_meta
from shared.model.classifier import EnsembleClassifier, FaceClassifier, build_classifier
from shared.model.dfdc import import_dfdc
from shared.model.network import NetworkConfig


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ck") / "b0-96.safetensors"
    init_checkpoint(path, NetworkConfig(input_size=96), seed=0)
    return path


def test_round_trip_keeps_weights_and_card(small_ckpt: Path) -> None:
    loaded = load_checkpoint(str(small_ckpt))
    meta = read_meta(small_ckpt)
    assert meta.version == "untrained" and meta.trained is False
    assert meta.network["input_size"] == 96 and meta.network["srm"]["normalisation"] == [4, 12, 2]
    again = load_checkpoint(str(small_ckpt))
    for (k, a), (_, b) in zip(
        loaded.model.state_dict().items(), again.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k
    assert loaded.identity.sha256 == again.identity.sha256


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"architecture_version": 99}, "architecture version 99"),
        ({"architecture": "something-else"}, "unknown to this code"),
        ({"format_version": 7}, "newer than this code"),
        ({"format": "other"}, "not a DeepfakeStream checkpoint"),
    ],
)
def test_metadata_that_does_not_match_the_code_is_refused(
    small_ckpt: Path, tmp_path: Path, change: dict, message: str
) -> None:
    path = tmp_path / "c.safetensors"
    path.write_bytes(small_ckpt.read_bytes())
    update_meta(path, **change)
    with pytest.raises(ModelError, match=message):
        load_checkpoint(str(path))


def test_network_description_mismatches_are_refused(small_ckpt: Path, tmp_path: Path) -> None:
    meta = read_meta(small_ckpt)
    for network, message in (
        (meta.network | {"srm": {"kernels": "other", "normalisation": [1, 1, 1]}}, "SRM"),
        (meta.network | {"backbone": "resnet50"}, "backbone"),
        (meta.network | {"in_chans": 3}, "input channels"),
    ):
        path = tmp_path / "n.safetensors"
        path.write_bytes(small_ckpt.read_bytes())
        update_meta(path, network=network)
        with pytest.raises(ModelError, match=message):
            load_checkpoint(str(path))


def test_weights_that_do_not_fit_the_card_are_refused(small_ckpt: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(small_ckpt.read_bytes())
    update_meta(
        path,
        network=read_meta(small_ckpt).network
        | {"head": {"type": "cnn-gwap", "channels": [64], "dropout": 0}},
    )
    with pytest.raises(ModelError, match="weights do not match"):
        load_checkpoint(str(path))


class PublishedDeepFakeClassifier(nn.Module):
    """The structure of selimsef/dfdc_deepfake_challenge's training/zoo/classifiers.py
    DeepFakeClassifier, rebuilt here independently (B0 instead of B7 to keep the test small)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = timm.create_model("tf_efficientnet_b0", pretrained=False, drop_path_rate=0.2)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(self.encoder.num_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avg_pool(self.encoder.forward_features(x)).flatten(1)
        return self.fc(self.dropout(x))


def test_dfdc_winner_weights_import_and_give_the_same_scores(tmp_path: Path) -> None:
    torch.manual_seed(0)
    theirs = PublishedDeepFakeClassifier().eval()
    state = {f"module.{k}": v for k, v in theirs.state_dict().items()}  # saved from DataParallel
    assert any(k.startswith("module.encoder.classifier.") for k in state)
    src = tmp_path / "final_111_DeepFakeClassifier_tf_efficientnet_b0_ns_0_36"
    torch.save({"state_dict": state, "epoch": 36, "bce_best": 0.2}, src)

    dst = tmp_path / "dfdc.safetensors"
    meta = import_dfdc(src, dst, backbone="tf_efficientnet_b0", input_size=128, name="dfdc-test")
    assert meta.architecture == "rgb-efficientnet-fc" and meta.version == src.stem
    ours = load_checkpoint(str(dst)).model
    x = torch.rand(3, 3, 128, 128)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.inference_mode():
        expected = torch.sigmoid(theirs((x - mean) / std)[:, 0])
        logit, heat = ours(x)
    assert torch.allclose(torch.sigmoid(logit), expected, atol=1e-5)
    assert heat.shape == (3, 4, 4)

    clf = FaceClassifier(str(dst))
    assert clf.input_size == 128 and clf.face_margin == pytest.approx(2 / 3)
    probs, _ = clf.predict(np.zeros((2, 200, 200, 3), np.uint8))  # other sizes are resized
    assert probs.shape == (2,)


def test_dfdc_importer_refuses_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": {"conv.weight": torch.zeros(1)}}, bad)
    with pytest.raises(ModelError, match="encoder"):
        import_dfdc(bad, tmp_path / "x.safetensors", backbone="tf_efficientnet_b0")
    torch.manual_seed(0)
    good = tmp_path / "good.pt"
    torch.save({"state_dict": PublishedDeepFakeClassifier().state_dict()}, good)
    with pytest.raises(ModelError, match="wrong --backbone"):
        import_dfdc(good, tmp_path / "y.safetensors", backbone="tf_efficientnet_b7")


def test_ensemble_is_the_mean_of_its_members(small_ckpt: Path, tmp_path: Path) -> None:
    other = tmp_path / "b0-128.safetensors"
    init_checkpoint(other, NetworkConfig(input_size=128), seed=1)
    update_meta(other, threshold=0.7)
    a, b = FaceClassifier(str(small_ckpt)), FaceClassifier(str(other))
    ens = EnsembleClassifier([a, b])
    crops = np.random.default_rng(0).integers(0, 255, (4, 128, 128, 3), dtype=np.uint8)
    probs, heats = ens.predict(crops)
    pa, _ = a.predict(crops)
    pb, _ = b.predict(crops)
    assert np.allclose(probs, (pa + pb) / 2, atol=1e-6)
    assert heats.shape[0] == 4
    assert ens.threshold == pytest.approx((0.5 + 0.7) / 2)
    assert ens.input_size == 128
    assert ens.identity.sha256 not in (a.identity.sha256, b.identity.sha256)
    assert ens.meta.trained is False and "untrained" in ens.identity.version

    manifest = tmp_path / "ensemble.json"
    manifest.write_text(
        json.dumps(
            {"name": "team", "version": "3", "threshold": 0.42, "members": [small_ckpt.name, other.name]}
        )
    )
    (tmp_path / small_ckpt.name).write_bytes(small_ckpt.read_bytes())
    assert parse_checkpoint_setting(str(manifest)).members[0] == str(tmp_path / small_ckpt.name)
    from_manifest = build_classifier(Settings(checkpoint=str(manifest)))
    assert isinstance(from_manifest, EnsembleClassifier)
    assert from_manifest.threshold == 0.42 and from_manifest.identity.name == "team"
    listed = build_classifier(Settings(checkpoint=f"{small_ckpt},{other}"))
    assert isinstance(listed, EnsembleClassifier)
    with pytest.raises(ModelError, match="unreadable"):
        parse_checkpoint_setting(str(tmp_path / "missing.json"))
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(ModelError, match="members"):
        parse_checkpoint_setting(str(tmp_path / "empty.json"))
