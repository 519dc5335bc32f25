"""The DFDC winning solution's weights are served his way (selimsef/dfdc_deepfake_challenge).

Nothing of his code is in the repository: this file re-implements, from the published
description only, his network's key structure (a timm EfficientNet `encoder`, average pooling,
dropout and `fc`, saved from DataParallel with `module.` keys), his face crop and resize, and
his `confident_strategy`; the project's own implementations must agree with these.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import timm
import torch
from torch import nn

from shared.config import Settings
from shared.errors import ModelError
from shared.model.checkpoint import read_meta
from shared.model.classifier import EnsembleClassifier, FaceClassifier
from shared.model.dfdc import import_dfdc, read_published_state
from shared.model.preprocessing import CROP_DFDC, CropSpec
from shared.pipeline.aggregate import confident_strategy, media_result, model_record
from shared.pipeline.analyze import analyze_frames
from shared.pipeline.faces import crop_dfdc
from shared.training.photos import offline_photo
from shared.types import Frame, SegmentSpec
from tests.pipeline.fakes import FakeDetector

SIZE = 96  # the input size of the small B0 stand-in for his B7 at 380


class HisClassifier(nn.Module):
    """His classifier's structure, from its description: encoder, avg pool, dropout, fc."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = timm.create_model("tf_efficientnet_b0", pretrained=False, drop_path_rate=0.2)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(self.encoder.num_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.avg_pool(self.encoder.forward_features(x)).flatten(1)))


def his_crop(frame: np.ndarray, box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """His face crop, written from the description: the box in whole pixels, a third of its
    width and height added on each side (integer division), cut at the frame edge; the longer
    side scaled to `size` keeping the aspect (area when shrinking, cubic when enlarging), then
    pasted in the middle of a black square."""
    xmin, ymin, xmax, ymax = (int(b) for b in box)
    p_w, p_h = (xmax - xmin) // 3, (ymax - ymin) // 3
    face = frame[max(ymin - p_h, 0) : ymax + p_h, max(xmin - p_w, 0) : xmax + p_w]
    h, w = face.shape[:2]
    if max(h, w) != size:
        s = size / max(h, w)
        new = (size, int(h * s)) if w > h else (int(w * s), size)
        face = cv2.resize(face, new, interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
    out = np.zeros((size, size, 3), np.uint8)
    top, left = (size - face.shape[0]) // 2, (size - face.shape[1]) // 2
    out[top : top + face.shape[0], left : left + face.shape[1]] = face
    return out


def his_video_score(per_model_faces: list[list[float]]) -> float:
    """His video score: confident strategy per model (t = 0.8), mean over models."""

    def strategy(pred: list[float]) -> float:
        a = np.array(pred)
        n_fake = int((a > 0.8).sum())
        if n_fake > len(a) // 2.5 and n_fake > 11:
            return float(a[a > 0.8].mean())
        if (a < 0.2).sum() > 0.9 * len(a):
            return float(a[a < 0.2].mean())
        return float(a.mean())

    return float(np.mean([strategy(p) for p in per_model_faces]))


def his_probabilities(model: nn.Module, crops: np.ndarray) -> np.ndarray:
    """His scoring of uint8 crops: /255, ImageNet normalisation, network, sigmoid (in fp32)."""
    x = torch.from_numpy(crops).float().permute(0, 3, 1, 2) / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.inference_mode():
        return torch.sigmoid(model((x - mean) / std)[:, 0]).numpy()


def save_like_his_training(model: nn.Module, path: Path, *, legacy_numpy1: bool = False) -> None:
    """`{"epoch", "state_dict" (DataParallel keys), "bce_best": numpy.float64}` as his training
    saved it; `legacy_numpy1`: the pre-zip torch format with numpy 1.x's module names."""
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    obj = {"epoch": 36, "state_dict": state, "bce_best": np.float64(0.1893)}
    if not legacy_numpy1:
        torch.save(obj, path)
        return
    raw = path.with_suffix(".raw")
    torch.save(obj, raw, _use_new_zipfile_serialization=False)
    data = raw.read_bytes()
    assert b"numpy._core.multiarray\nscalar" in data
    path.write_bytes(data.replace(b"numpy._core.multiarray\nscalar", b"numpy.core.multiarray\nscalar"))


@pytest.fixture(scope="module")
def his_model() -> nn.Module:
    torch.manual_seed(0)
    return HisClassifier().eval()


@pytest.fixture(scope="module")
def imported(his_model: nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dfdc")
    src = d / "final_111_DeepFakeClassifier_tf_efficientnet_b0_ns_0_36"
    save_like_his_training(his_model, src)
    dst = d / "dfdc.safetensors"
    import_dfdc(src, dst, backbone="tf_efficientnet_b0", input_size=SIZE)
    return dst


@pytest.mark.parametrize("legacy", [False, True], ids=["zip-numpy2", "legacy-numpy1"])
def test_his_checkpoint_files_load_without_trusting_the_pickle(
    his_model: nn.Module, tmp_path: Path, legacy: bool
) -> None:
    src = tmp_path / "his.pt"
    save_like_his_training(his_model, src, legacy_numpy1=legacy)
    state = read_published_state(src)  # no trust_pickle
    assert set(state) == set(his_model.state_dict())
    assert torch.equal(state["fc.weight"], his_model.state_dict()["fc.weight"])


def test_other_pickled_objects_are_still_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("this ran",))

    src = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "bce_best": np.float64(0.2), "evil": Evil()}, src)
    with pytest.raises(ModelError, match="trust-pickle"):
        read_published_state(src)


def test_the_importer_writes_his_serving_recipe_into_the_card(imported: Path) -> None:
    meta = read_meta(imported)
    assert meta.crop == CropSpec(CROP_DFDC, pytest.approx(2 / 3), SIZE)  # type: ignore[arg-type]
    assert meta.aggregation == "confident" and meta.precision == "fp16"
    pre = meta.training["preprocessing"]
    assert pre["frames_per_video"] == 32 and pre["mtcnn_thresholds"] == [0.7, 0.8, 0.8]
    policy = meta.serving_policy()
    assert policy["crop"]["geometry"] == CROP_DFDC and policy["aggregation"] == "confident"


BOXES = [
    (200.0, 60.0, 300.0, 190.0),  # inside the frame, taller than wide, shrunk
    (-12.6, 20.2, 70.9, 120.4),  # leaves the frame on the left: cut there, stays rectangular
    (400.3, 430.7, 470.1, 511.9),  # leaves it at the bottom right
    (250.0, 250.0, 290.0, 280.0),  # smaller than the input: enlarged (cubic)
    (100.0, 100.0, 100.0 + 3 * SIZE // 4, 100.0 + 3 * SIZE // 4),  # third added: exactly the input size
]


@pytest.mark.parametrize("box", BOXES)
def test_the_dfdc_crop_is_his_crop(box: tuple[float, float, float, float]) -> None:
    frame = offline_photo("astronaut")  # 512×512
    ours = crop_dfdc(frame, box, 2 / 3, SIZE)
    assert ours.shape == (SIZE, SIZE, 3) and ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, his_crop(frame, box, SIZE))


def test_a_cut_crop_is_centred_on_black_not_filled_with_the_frame() -> None:
    frame = np.full((200, 400, 3), 200, np.uint8)
    crop = crop_dfdc(frame, (0.0, 50.0, 90.0, 110.0), 2 / 3, 60)  # wider than tall after the cut
    assert crop[0].max() == 0 and crop[-1].max() == 0, "black bands above and below"
    assert crop[30].min() == 200, "the face spans the width"


def test_imported_weights_score_his_crops_as_his_module_does(his_model: nn.Module, imported: Path) -> None:
    frame = offline_photo("astronaut")
    crops = np.stack([his_crop(frame, b, SIZE) for b in BOXES])
    ours, _ = FaceClassifier(str(imported)).predict(crops)
    assert np.abs(ours - his_probabilities(his_model, crops)).max() < 1e-5


def confident_cases() -> list[list[float]]:
    rng = np.random.default_rng(7)
    return [
        list(rng.uniform(0.85, 1.0, 20)) + list(rng.uniform(0.0, 1.0, 12)),  # > 11 confident fakes
        list(rng.uniform(0.85, 1.0, 11)) + list(rng.uniform(0.3, 0.6, 5)),  # exactly 11: not enough
        list(rng.uniform(0.85, 1.0, 12)) + list(rng.uniform(0.3, 0.6, 20)),  # 12 but not > 32 // 2.5
        list(rng.uniform(0.85, 1.0, 13)) + list(rng.uniform(0.3, 0.6, 19)),  # 13 > 12.0: fake mean
        list(rng.uniform(0.0, 0.19, 30)) + [0.5, 0.9],  # > 90 % confidently real
        list(rng.uniform(0.0, 0.19, 28)) + list(rng.uniform(0.4, 0.6, 4)),  # 87.5 %: plain mean
        [0.8, 0.8, 0.2, 0.2],  # the thresholds are strict
        [0.5],
    ]


@pytest.mark.parametrize("faces", confident_cases())
def test_confident_strategy_is_his(faces: list[float]) -> None:
    assert confident_strategy(faces) == pytest.approx(his_video_score([faces]), abs=1e-12)


def test_a_video_is_aggregated_as_his_module_does_through_the_pipeline(
    his_model: nn.Module, imported: Path
) -> None:
    """Frames → our detector stand-in → his crops → scores → `confident` over every face of the
    video, as his module aggregates a video."""
    frame_img = offline_photo("astronaut")
    frames = [Frame(i, i / 10, np.roll(frame_img, 7 * i, axis=1)) for i in range(16)]
    detector = FakeDetector(faces=[[(b, 0.99) for b in BOXES[:2]] for _ in frames])
    single = FaceClassifier(str(imported))
    spec = SegmentSpec(index=0, start_s=0.0, end_s=1.6)
    result = analyze_frames(frames, spec, Settings(), detector, single, {})
    assert len(result.faces) == 32
    his_crops = np.stack([his_crop(f.image, b, SIZE) for f in frames for b in BOXES[:2]])
    for face, crop in zip(result.faces, his_crops, strict=True):
        np.testing.assert_array_equal(face.crop, crop)
    his_faces = [float(p) for p in his_probabilities(his_model, his_crops)]
    doc = media_result([result], model_record(single))
    assert doc["aggregation"] == "confident"
    assert doc["probability"] == pytest.approx(his_video_score([his_faces]), abs=1e-5)


def test_ensemble_members_get_their_own_crops_and_his_per_model_strategy(
    his_model: nn.Module, imported: Path, tmp_path: Path
) -> None:
    from shared.model.checkpoint import update_meta

    other = tmp_path / "wide.safetensors"
    other.write_bytes(imported.read_bytes())
    meta = read_meta(other)
    update_meta(
        other, network=meta.network | {"preprocessing": meta.network["preprocessing"] | {"face_margin": 1.0}}
    )
    a, b = FaceClassifier(str(imported)), FaceClassifier(str(other))
    ens = EnsembleClassifier([a, b])
    assert ens.crop_specs == (a.crop_spec, b.crop_spec) and a.crop_spec != b.crop_spec
    same = EnsembleClassifier([a, FaceClassifier(str(imported))])
    assert len(same.crop_specs) == 1, "members that cut alike share one set of crops"

    frame_img = offline_photo("astronaut")
    frames = [Frame(i, i / 10, frame_img) for i in range(14)]
    detector = FakeDetector(faces=[[(BOXES[0], 0.99)] for _ in frames])
    result = analyze_frames(
        frames, SegmentSpec(index=0, start_s=0.0, end_s=1.4), Settings(), detector, ens, {}
    )
    crops_a = np.stack([crop_dfdc(f.image, BOXES[0], 2 / 3, SIZE) for f in frames])
    crops_b = np.stack([crop_dfdc(f.image, BOXES[0], 1.0, SIZE) for f in frames])
    assert not np.array_equal(crops_a, crops_b)
    pa = [float(p) for p in his_probabilities(his_model, crops_a)]
    pb = [float(p) for p in his_probabilities(his_model, crops_b)]
    for face, x, y in zip(result.faces, pa, pb, strict=True):
        assert face.member_probabilities == pytest.approx((x, y), abs=1e-5)
        assert face.probability == pytest.approx((x + y) / 2, abs=1e-5)
    doc = media_result([result], model_record(ens))
    assert doc["probability"] == pytest.approx(his_video_score([pa, pb]), abs=1e-5)


def test_an_ensemble_of_members_that_aggregate_differently_is_refused(
    imported: Path, untrained_checkpoint: Path
) -> None:
    from shared.model.card import read_card

    with pytest.raises(ModelError, match="aggregate faces the same way"):
        read_card(f"{imported},{untrained_checkpoint}", Settings())
