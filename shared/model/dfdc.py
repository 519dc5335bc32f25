"""Import the DFDC winning solution's published weights (selimsef/dfdc_deepfake_challenge).

Those checkpoints are torch pickles holding `{"epoch": int, "state_dict": {...}, "bce_best": a
numpy float}` (the best validation log loss, as scikit-learn returns it) for a
`DeepFakeClassifier`: a timm `tf_efficientnet_b7_ns` encoder (`encoder.*`), average pooling,
dropout and one linear layer (`fc.weight`, `fc.bias`), trained on 380 px RGB crops with
ImageNet normalisation and a third of the face box added on each side. Keys may carry the
`module.` prefix of DataParallel. The importer checks the structure, drops the encoder's
unused ImageNet classifier, and writes one of our checkpoints (safetensors + model card),
served by `RGBEfficientNet` with the same numbers.

The card it writes makes the pipeline serve them his way (`shared.model.preprocessing`): his
rectangular crop (`dfdc-rect`, a third of the box on each side, isotropic resize centred on
black), his `confident_strategy` aggregation, and fp16 on CUDA, as his inference ran. His face
detector settings (MTCNN thresholds 0.7/0.8/0.8, detection at half resolution, 32 frames per
video, every face kept) are recorded under `training.preprocessing`; they are deployment
settings (`DFS_MTCNN__*`, `DFS_FRAMES_PER_SEGMENT`), see docs/model.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from shared.errors import ModelError
from shared.model.architectures import RGB_ARCHITECTURE, RGB_ARCHITECTURE_VERSION, RGBNetworkConfig
from shared.model.checkpoint import CheckpointMeta, save_checkpoint
from shared.model.network import RGBEfficientNet
from shared.model.preprocessing import AGGREGATION_CONFIDENT, CROP_DFDC

#: his face detector and sampling (kernel_utils.FaceExtractor, predict_folder.py)
PUBLISHED_PREPROCESSING: dict[str, Any] = {
    "frames_per_video": 32,
    "mtcnn_thresholds": [0.7, 0.8, 0.8],
    "mtcnn_detect_scale": 0.5,
    "mtcnn_min_confidence": None,
    "faces_per_frame": "all",
    "crop": "box + a third of its width/height on each side, cut at the frame edge",
    "resize": "isotropic to the input size (area down, bicubic up), centred on black",
}


def numpy_safe_globals() -> list[Any]:
    """Exactly the numpy types a training script's numpy scalars unpickle through: the scalar
    constructor (under numpy 1's and numpy 2's module names) and the dtype classes. Nothing that
    can run arbitrary code: these only rebuild a number from its dtype and raw bytes."""
    import numpy as np

    scalar = np._core.multiarray.scalar  # type: ignore[attr-defined]
    allowed: list[Any] = [
        scalar,
        (scalar, "numpy.core.multiarray.scalar"),  # files written with numpy 1.x
        np.dtype,
    ]
    for name in ("Float16DType", "Float32DType", "Float64DType", "Int32DType", "Int64DType", "BoolDType"):
        allowed.append(getattr(np.dtypes, name))
    return allowed


def read_published_state(path: Path, *, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The state dict inside a published checkpoint, with `module.` prefixes removed.

    Loaded with `weights_only=True` (tensors, plain containers and the numpy scalar types of
    `numpy_safe_globals`) unless the user explicitly trusts the file: a pickle can run code.
    """
    try:
        if trust_pickle:
            raw: Any = torch.load(path, map_location="cpu", weights_only=False)
        else:
            with torch.serialization.safe_globals(numpy_safe_globals()):
                raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        hint = "" if trust_pickle else " (if you trust its source, retry with --trust-pickle)"
        raise ModelError(f"{path.name} could not be read as a torch checkpoint: {exc}"[:400] + hint) from exc
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict):
        raise ModelError(f"{path.name} holds no state dict")
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}


def convert_state(state: dict[str, torch.Tensor], backbone: str, input_size: int) -> RGBEfficientNet:
    if "fc.weight" not in state or not any(k.startswith("encoder.") for k in state):
        raise ModelError("not a DeepFakeClassifier state dict: expected `encoder.*` and `fc.*` keys")
    state = {k: v for k, v in state.items() if not k.startswith("encoder.classifier.")}
    model = RGBEfficientNet(
        RGBNetworkConfig(backbone=backbone, input_size=input_size, crop_geometry=CROP_DFDC)
    )
    expected = model.state_dict()
    if state["fc.weight"].shape != expected["fc.weight"].shape:
        raise ModelError(
            f"fc layer has {state['fc.weight'].shape[1]} inputs but {backbone} gives {expected['fc.weight'].shape[1]}:"
            " wrong --backbone?"
        )
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ModelError(
            f"weights do not match {backbone}: missing {len(missing)} (e.g. {missing[:2]}), "
            f"unexpected {len(unexpected)} (e.g. {unexpected[:2]})"
        )
    model.load_state_dict(state, strict=True)
    return model.eval()


def import_dfdc(
    src: Path,
    dst: Path,
    *,
    backbone: str = "tf_efficientnet_b7",
    input_size: int = 380,
    name: str = "dfdc-selimsef-b7",
    version: str | None = None,
    threshold: float = 0.5,
    trust_pickle: bool = False,
) -> CheckpointMeta:
    model = convert_state(read_published_state(src, trust_pickle=trust_pickle), backbone, input_size)
    meta = CheckpointMeta(
        architecture=RGB_ARCHITECTURE,
        architecture_version=RGB_ARCHITECTURE_VERSION,
        name=name,
        version=version or src.stem,
        trained=True,
        network=model.config.to_dict(),
        threshold=threshold,
        description=(
            "Imported from the DFDC winning solution's published weights (selimsef/dfdc_deepfake_challenge, "
            f"file {src.name}). Trained by its authors on the DFDC training set; see their repository."
        ),
        training={
            "source": "selimsef/dfdc_deepfake_challenge",
            "file": src.name,
            "dataset": "DFDC (their training)",
            "preprocessing": PUBLISHED_PREPROCESSING,
        },
        aggregation=AGGREGATION_CONFIDENT,
        precision="fp16",
    )
    save_checkpoint(model, meta, dst)
    return meta
