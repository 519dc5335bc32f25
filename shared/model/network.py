"""The detection network, shared by training and serving.

SRM noise maps + normalised RGB (6 channels) → EfficientNet backbone (timm, never pretrained
from a hub) → a small CNN head whose global weighted average pooling (GWAP) turns a spatial
map of manipulation scores into one logit, and doubles as a localisation heatmap.

The configs describing these networks (and the architecture registry) are torch-free and
live in `shared.model.architectures`.
"""

from __future__ import annotations

import torch
from torch import nn

from shared.model.architectures import ARCHITECTURE, RGB_ARCHITECTURE, NetworkConfig, RGBNetworkConfig
from shared.model.srm import SRMFilter


class GWAPHead(nn.Module):
    """Conv layers on the backbone's feature map, then global weighted average pooling.

    `score` gives a manipulation logit per location, `attention` how much each location
    counts; the face logit is the attention-weighted mean of the scores. The same two maps
    make the heatmap: sigmoid(score) scaled by relative attention.
    """

    def __init__(
        self, in_channels: int, channels: tuple[int, ...] = (256, 128), dropout: float = 0.2
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, out in enumerate(channels):
            layers += [
                nn.Conv2d(c, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.SiLU(inplace=True),
            ]
            if i == 0 and dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            c = out
        self.body = nn.Sequential(*layers)
        self.score = nn.Conv2d(c, 1, 1)
        self.attention = nn.Conv2d(c, 1, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(features)
        # the two 1×1 maps, the pooling and the heatmap run in fp32 even under autocast: they
        # are cheap, and bf16 rounding there moves the logit itself (see `forward` below)
        with torch.autocast(device_type=h.device.type, enabled=False):
            return self._pool(h.float())

    def _pool(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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
        with torch.autocast(device_type=f.device.type, enabled=False):  # pooling and fc in fp32
            f = f.float()
            logit = self.fc(self.dropout(f.mean(dim=(2, 3))))[:, 0]
            cam = torch.einsum("bchw,c->bhw", f, self.fc.weight[0]) + self.fc.bias[0]
            return logit, torch.sigmoid(cam)


#: architecture name (`shared.model.architectures.ARCHITECTURES`) → its network class
NETWORKS: dict[str, type[nn.Module]] = {
    ARCHITECTURE: SRMEfficientNet,
    RGB_ARCHITECTURE: RGBEfficientNet,
}


def build_network(architecture: str, config: NetworkConfig | RGBNetworkConfig) -> nn.Module:
    """An untrained network of `architecture`, shaped by its config."""
    return NETWORKS[architecture](config)  # type: ignore[call-arg]


#: the precisions `forward` can run a network's backbone in
PRECISIONS = ("fp32", "bf16", "fp16")
_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def forward(
    model: nn.Module, x: torch.Tensor, device: str, *, precision: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logit, heatmap) for a batch already on `device`, both fp32. The one place serving,
    evaluation and training run the network.

    `precision` (default: bf16 on CUDA, fp32 elsewhere, which is what training uses) is the
    autocast dtype of the backbone; `fp32` never autocasts. Autocast works on CPU too, which is
    how the tests check the policy without a GPU. Under autocast the numerically fragile parts
    stay fp32 with autocast disabled: the fixed SRM filters (`SRMFilter.forward`) and the
    head's final maps, pooling and logit; callers apply the sigmoid to the fp32 logit.
    Serving passes its checkpoint card's precision (`shared.model.classifier`).
    """
    cuda = device.startswith("cuda")
    precision = precision or ("bf16" if cuda else "fp32")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r} (one of {', '.join(PRECISIONS)})")
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    if precision == "fp32":
        return model(x)  # type: ignore[no-any-return]
    with torch.autocast("cuda" if cuda else "cpu", dtype=_AUTOCAST[precision]):
        logit, heat = model(x)
    return logit.float(), heat.float()
