"""The detection network, shared by training and serving.

SRM noise maps + normalised RGB (6 channels) → EfficientNet backbone (timm, never pretrained
from a hub) → a small CNN head whose global weighted average pooling (GWAP) turns a spatial
map of manipulation scores into one logit, and doubles as a localisation heatmap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

# Architecture names and versions are part of the (torch-free) model card.
from shared.model.card import (  # noqa: F401
    ARCHITECTURE,
    ARCHITECTURE_VERSION,
    RGB_ARCHITECTURE,
    RGB_ARCHITECTURE_VERSION,
)
from shared.model.srm import SRMFilter

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Backbones known to work, with their customary input size.
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
}


@dataclass(frozen=True)
class NetworkConfig:
    """Everything needed to rebuild the network; stored in every checkpoint."""

    backbone: str = "efficientnet_b0"
    input_size: int = 224
    srm_clip: float | None = 3.0
    head_channels: tuple[int, ...] = (256, 128)
    dropout: float = 0.2
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    #: margin around the face box the crops were cut with in training (serving uses the same)
    face_margin: float = 0.3
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone,
            "input_size": self.input_size,
            "in_chans": 6,
            "srm": {"kernels": "zhou2018-5x5", "normalisation": [4, 12, 2], "clip": self.srm_clip, "input_scale": 255},
            "head": {"type": "cnn-gwap", "channels": list(self.head_channels), "dropout": self.dropout},
            "normalization": {"mean": list(self.mean), "std": list(self.std), "input_range": [0, 1]},
            "preprocessing": {"face_margin": self.face_margin, "crop": "square, zero-padded, bilinear resize"},
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
        )


class GWAPHead(nn.Module):
    """Conv layers on the backbone's feature map, then global weighted average pooling.

    `score` gives a manipulation logit per location, `attention` how much each location
    counts; the face logit is the attention-weighted mean of the scores. The same two maps
    make the heatmap: sigmoid(score) scaled by relative attention.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...] = (256, 128), dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, out in enumerate(channels):
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.SiLU(inplace=True)]
            if i == 0 and dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            c = out
        self.body = nn.Sequential(*layers)
        self.score = nn.Conv2d(c, 1, 1)
        self.attention = nn.Conv2d(c, 1, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(features)
        score = self.score(h)  # B×1×h×w
        att_logits = self.attention(h)
        weights = torch.softmax(att_logits.flatten(2), dim=-1).view_as(score)
        logit = (score * weights).sum(dim=(1, 2, 3))
        rel = weights / weights.amax(dim=(2, 3), keepdim=True).clamp_min(1e-12)
        heatmap = torch.sigmoid(score) * rel
        return logit, heatmap[:, 0]


class SRMEfficientNet(nn.Module):
    """RGB crops in [0, 1] (B×3×S×S) → (logit B, heatmap B×h×w)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        import timm

        self.config = config
        self.srm = SRMFilter(clip=config.srm_clip)
        self.backbone = timm.create_model(
            config.backbone, pretrained=False, in_chans=6, num_classes=0, global_pool=""
        )
        features: int = self.backbone.num_features  # type: ignore[assignment]
        self.head = GWAPHead(features, config.head_channels, config.dropout)
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rgb = (x - self.mean) / self.std
        noise = self.srm(x)
        features = self.backbone.forward_features(torch.cat([rgb, noise], dim=1))  # type: ignore[operator]
        return self.head(features)


@dataclass(frozen=True)
class RGBNetworkConfig:
    """The DFDC winners' classifier: timm EfficientNet on plain RGB, average pool, dropout, fc."""

    backbone: str = "tf_efficientnet_b7"
    input_size: int = 380
    dropout: float = 0.0
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    face_margin: float = 2 / 3  # they pad a third of the box on each side

    def to_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone,
            "input_size": self.input_size,
            "in_chans": 3,
            "head": {"type": "avgpool-dropout-fc", "dropout": self.dropout},
            "normalization": {"mean": list(self.mean), "std": list(self.std), "input_range": [0, 1]},
            "preprocessing": {"face_margin": self.face_margin, "crop": "square, zero-padded, bilinear resize"},
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
        )


class RGBEfficientNet(nn.Module):
    """Same calling convention as SRMEfficientNet: RGB crops in [0, 1] → (logit, heatmap).

    The heatmap is a class activation map: the linear layer applied at every location of the
    feature map, squashed by a sigmoid. Module names (`encoder`, `fc`) match the published
    DeepFakeClassifier state dicts key for key.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, config: RGBNetworkConfig) -> None:
        super().__init__()
        import timm

        self.config = config
        self.encoder = timm.create_model(config.backbone, pretrained=False, num_classes=0, global_pool="")
        features: int = self.encoder.num_features  # type: ignore[assignment]
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(features, 1)
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.encoder.forward_features((x - self.mean) / self.std)  # type: ignore[operator]
        logit = self.fc(self.dropout(f.mean(dim=(2, 3))))[:, 0]
        cam = torch.einsum("bchw,c->bhw", f, self.fc.weight[0]) + self.fc.bias[0]
        return logit, torch.sigmoid(cam)


def forward(model: nn.Module, x: torch.Tensor, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(logit, heatmap) for a batch already on `device`: bf16 autocast and channels_last on
    CUDA, plain fp32 on CPU. The one place serving, evaluation and training run the network."""
    if device.startswith("cuda"):
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return model(x)  # type: ignore[no-any-return]
    return model(x)  # type: ignore[no-any-return]
