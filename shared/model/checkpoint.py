"""Checkpoints are model cards: safetensors weights with JSON metadata in the same file.

The metadata (safetensors `__metadata__["dfs"]`) says what the weights are (architecture,
backbone, input size, normalisation, SRM settings), how to use them (threshold), where they
came from (training data, metrics and the data they were measured on, code version) and is
checked against this code before anything is served. The identity written into every result
is (name, version, sha256 of the file).

The card itself and how to find a checkpoint are torch-free (`shared.model.card`, read by the
API); this module adds what needs torch: checking, building, loading and saving networks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from shared.config import Settings
from shared.errors import ModelError
from shared.model.architectures import ARCHITECTURE, ARCHITECTURES, BACKBONES, NetworkConfig
from shared.model.card import FORMAT, FORMAT_VERSION, CheckpointMeta, read_meta, resolve_checkpoint
from shared.model.network import SRMEfficientNet, build_network
from shared.model.preprocessing import CROP_GEOMETRIES
from shared.types import ModelIdentity


def default_name(backbone: str) -> str:
    return "srm-" + backbone.replace("_", "-")


def check_compatible(meta: CheckpointMeta) -> None:
    """Refuse metadata this code cannot serve faithfully, saying exactly why."""
    if meta.format != FORMAT:
        raise ModelError(f"not a DeepfakeStream checkpoint (format {meta.format!r})")
    if meta.format_version > FORMAT_VERSION:
        raise ModelError(
            f"checkpoint format version {meta.format_version} is newer than this code supports ({FORMAT_VERSION})"
        )
    if meta.architecture not in ARCHITECTURES:
        raise ModelError(
            f"checkpoint architecture {meta.architecture!r} is unknown to this code ({', '.join(ARCHITECTURES)})"
        )
    code_version = ARCHITECTURES[meta.architecture].version
    if meta.architecture_version != code_version:
        raise ModelError(
            f"checkpoint architecture version {meta.architecture_version} does not match this code's {code_version}"
        )
    net = meta.network
    try:
        cfg = meta.network_config
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"checkpoint network description is incomplete: {exc}") from exc
    if meta.architecture == ARCHITECTURE:
        if net.get("in_chans", 6) != 6:
            raise ModelError(
                f"checkpoint expects {net.get('in_chans')} input channels; this code feeds 6 (RGB + SRM)"
            )
        if cfg.backbone not in BACKBONES:
            raise ModelError(f"checkpoint backbone {cfg.backbone!r} is not one of {sorted(BACKBONES)}")
        srm = net.get("srm", {})
        if srm.get("kernels") != "zhou2018-5x5" or list(srm.get("normalisation", [])) != [4, 12, 2]:
            raise ModelError("checkpoint SRM filter settings do not match this code's SRM layer")
    else:
        import timm

        if net.get("in_chans", 3) != 3:
            raise ModelError(
                f"checkpoint expects {net.get('in_chans')} input channels; this architecture feeds RGB"
            )
        if not timm.is_model(cfg.backbone):
            raise ModelError(f"checkpoint backbone {cfg.backbone!r} is not a timm model")
    if cfg.crop_geometry not in CROP_GEOMETRIES:
        raise ModelError(
            f"checkpoint crop geometry {cfg.crop_geometry!r} is unknown to this code ({', '.join(CROP_GEOMETRIES)})"
        )
    if not 32 <= cfg.input_size <= 1024:
        raise ModelError(f"checkpoint input size {cfg.input_size} is out of range")


def save_checkpoint(
    model: torch.nn.Module, meta: CheckpointMeta, path: Path, *, dtype: torch.dtype = torch.float32
) -> Path:
    """Write weights and model card atomically. `dtype=torch.float16` halves the file."""
    from safetensors.torch import save_file

    state = {
        k: (
            v.detach().to("cpu").contiguous().to(dtype)
            if v.is_floating_point()
            else v.detach().to("cpu").contiguous()
        )
        for k, v in model.state_dict().items()
    }
    meta = meta.model_copy(update={"network": model.config.to_dict()})  # type: ignore[operator,union-attr]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(state, str(tmp), metadata={"dfs": meta.model_dump_json()})
    tmp.replace(path)
    return path


def update_meta(path: Path, **changes: Any) -> CheckpointMeta:
    """Rewrite a checkpoint's model card (e.g. the threshold chosen on validation data)."""
    from safetensors.torch import load_file, save_file

    meta = read_meta(path).model_copy(update=changes)
    tensors = load_file(str(path))
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata={"dfs": meta.model_dump_json()})
    tmp.replace(path)
    return meta


def init_checkpoint(path: Path, config: NetworkConfig | None = None, *, seed: int = 0) -> CheckpointMeta:
    """A freshly initialised network saved as a checkpoint that says it is untrained."""
    config = config or NetworkConfig()
    torch.manual_seed(seed)
    model = SRMEfficientNet(config)
    meta = CheckpointMeta(
        name=default_name(config.backbone),
        version="untrained",
        trained=False,
        network=config.to_dict(),
        description=f"Randomly initialised weights (seed {seed}). Its probabilities carry no information.",
    )
    save_checkpoint(model, meta, path)
    return meta


@dataclass
class LoadedCheckpoint:
    path: Path
    meta: CheckpointMeta
    identity: ModelIdentity
    model: torch.nn.Module


def load_checkpoint(
    ref: str | None, settings: Settings | None = None, device: str = "cpu"
) -> LoadedCheckpoint:
    """Resolve, verify and load a checkpoint into an eval-mode network on `device`."""
    from safetensors.torch import load_file

    from shared.storage import sha256_file

    path = resolve_checkpoint(ref, settings)
    meta = read_meta(path)
    check_compatible(meta)
    model = build_network(meta.architecture, meta.network_config)
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise ModelError(f"{path.name}: weights unreadable ({exc}); the file may be corrupt") from exc
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes differ from what the card describes
        raise ModelError(
            f"{path.name}: weights do not match the network described by its metadata: "
            f"{str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else exc}"
        ) from exc
    if missing or unexpected:
        raise ModelError(
            f"{path.name}: weights do not match the network described by its metadata "
            f"(missing {len(missing)} tensors e.g. {missing[:2]}, unexpected {len(unexpected)} e.g. {unexpected[:2]})"
        )
    model.eval().to(device)
    identity = ModelIdentity(name=meta.name, version=meta.version, sha256=sha256_file(path))
    return LoadedCheckpoint(path=path, meta=meta, identity=identity, model=model)
