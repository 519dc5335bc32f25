"""Fixed SRM high-pass filters (Zhou et al., "Learning Rich Features for Image Manipulation
Detection", CVPR 2018).

Three 5×5 residual kernels, normalised by 4, 12 and 2. Each output channel applies one kernel
to R, G and B and sums the three responses, so the layer maps RGB to three noise maps that
suppress image content and keep the high-frequency traces a face-swap blend leaves behind.
The weights are a buffer, never trained.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

KERNEL_1 = (
    torch.tensor(
        [
            [0, 0, 0, 0, 0],
            [0, -1, 2, -1, 0],
            [0, 2, -4, 2, 0],
            [0, -1, 2, -1, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=torch.float32,
    )
    / 4.0
)
KERNEL_2 = (
    torch.tensor(
        [
            [-1, 2, -2, 2, -1],
            [2, -6, 8, -6, 2],
            [-2, 8, -12, 8, -2],
            [2, -6, 8, -6, 2],
            [-1, 2, -2, 2, -1],
        ],
        dtype=torch.float32,
    )
    / 12.0
)
KERNEL_3 = (
    torch.tensor(
        [
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 1, -2, 1, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=torch.float32,
    )
    / 2.0
)


def srm_weight() -> torch.Tensor:
    """Conv weight of shape (3 out, 3 in, 5, 5): kernel k applied to every input channel."""
    kernels = torch.stack([KERNEL_1, KERNEL_2, KERNEL_3])  # 3×5×5
    return kernels[:, None, :, :].repeat(1, 3, 1, 1)


class SRMFilter(nn.Module):
    """RGB in [0, 1] → three SRM residual maps.

    The residuals are computed on the 0–255 scale the kernels were designed for, then (if
    `clip` is set) truncated to ±clip and divided by clip, as in SRM's truncation step, which
    keeps the noise maps in [-1, 1] next to the normalised RGB channels.
    """

    weight: torch.Tensor

    def __init__(self, clip: float | None = 3.0, input_scale: float = 255.0) -> None:
        super().__init__()
        self.clip = clip
        self.input_scale = input_scale
        self.register_buffer("weight", srm_weight(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Always computed in fp32 with autocast disabled: in bf16 the 1/12 kernel no longer
        sums to zero (a flat grey patch leaks about 2.25 into that channel against a clip of
        3), so a network served under bf16 autocast would read different noise maps than it
        was trained on. The result is returned in fp32; autocast casts it where it is used."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = F.pad(x.float() * self.input_scale, (2, 2, 2, 2), mode="reflect")
            y = F.conv2d(x, self.weight.float())
            if self.clip is not None:
                y = torch.clamp(y, -self.clip, self.clip) / self.clip
        return y


def clip_saturation(x: torch.Tensor, clip: float = 3.0) -> float:
    """The fraction of SRM responses (all three maps, every pixel) of RGB crops `x` in [0, 1]
    that clipping at ±`clip` truncates: near 1, the clipped maps are close to a sign map.
    A measurement for choosing `NetworkConfig.srm_clip` (the card's `network.srm.clip`)."""
    with torch.inference_mode():
        y = SRMFilter(clip=None)(x)
    return float((y.abs() >= clip).float().mean())
