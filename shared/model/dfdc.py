"""Import the DFDC winning solution's published weights (selimsef/dfdc_deepfake_challenge).

Those checkpoints are torch pickles holding `{"state_dict": {...}, ...}` for a
`DeepFakeClassifier`: a timm `tf_efficientnet_b7_ns` encoder (`encoder.*`), average pooling,
dropout and one linear layer (`fc.weight`, `fc.bias`), trained on 380 px RGB crops with
ImageNet normalisation and a third of the face box added on each side. Keys may carry the
`module.` prefix of DataParallel. The importer checks the structure, drops the encoder's
unused ImageNet classifier, and writes one of our checkpoints (safetensors + model card),
served by `RGBEfficientNet` with the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from shared.errors import ModelError
from shared.model.architectures import RGB_ARCHITECTURE, RGB_ARCHITECTURE_VERSION, RGBNetworkConfig
from shared.model.checkpoint import CheckpointMeta, save_checkpoint
from shared.model.network import RGBEfficientNet


def read_published_state(path: Path, *, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The state dict inside a published checkpoint, with `module.` prefixes removed.

    Loaded with `weights_only=True` (tensors and plain containers only) unless the user
    explicitly trusts the file: a pickle can run code.
    """
    try:
        raw: Any = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
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
    model = RGBEfficientNet(RGBNetworkConfig(backbone=backbone, input_size=input_size))
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
        },
    )
    save_checkpoint(model, meta, dst)
    return meta
