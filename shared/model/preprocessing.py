"""How a checkpoint wants its faces cut, its video scores combined and its backbone run (torch-free).

These are properties of the weights, recorded in the model card, because a network only gives
the numbers it was measured with when it is fed the crops it was trained on and its face scores
are combined the way its authors combined them:

- **crop geometry** (`NetworkConfig.crop_geometry`, with the margin and the input size):
  `square` (ours) or `dfdc-rect` (the DFDC winning solution's); `shared.pipeline.faces` cuts them.
- **aggregation** (`CheckpointMeta.aggregation`): how face probabilities become a segment's and a
  video's; `shared.pipeline.aggregate` implements them.
- **precision** (`CheckpointMeta.precision`): the autocast dtype of the backbone when served on
  CUDA (`shared.model.network.forward`; CPU serving is always fp32, and the SRM filters and the
  head's logit are fp32 in every case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: a square around the box centre whose side is the box's longer side × (1 + margin), zero-padded
#: where it leaves the frame, resized (bilinear, antialiased when shrinking) to the input size
CROP_SQUARE = "square"
#: the DFDC winner's crop: the box widened by margin/2 of its width (height) on each side,
#: rounded down to whole pixels, cut at the frame edge (so it stays rectangular), resized keeping
#: its aspect so its longer side is the input size (area interpolation when shrinking, bicubic
#: when enlarging) and centred on a black square
CROP_DFDC = "dfdc-rect"
CROP_GEOMETRIES: dict[str, str] = {
    CROP_SQUARE: "square around the box centre (side = longer box side × (1 + margin)), zero-padded at the"
    " frame edge, bilinear resize to the input size",
    CROP_DFDC: "box widened by margin/2 of its size on each side, cut at the frame edge (rectangular),"
    " resized keeping its aspect to the input size (area down, bicubic up), centred on black",
}

#: a segment's probability is the mean of its faces', a video's the mean of its segments'
AGGREGATION_MEAN: Final = "mean"
#: the DFDC winner's `confident_strategy` over all faces of a video (see `shared.pipeline.aggregate`)
AGGREGATION_CONFIDENT: Final = "confident"
AGGREGATIONS: dict[str, str] = {
    AGGREGATION_MEAN: "segment = mean of its faces; video = mean of its segments with faces",
    AGGREGATION_CONFIDENT: "the DFDC winner's confident strategy over the faces (t = 0.8): the mean of"
    " the confidently fake ones when there are more than 11 and more than len // 2.5 of them, else the mean"
    " of the confidently real ones (< 0.2) when they are more than 90 %, else the plain mean; an ensemble"
    " averages its members' results",
}
Aggregation = Literal["mean", "confident"]

#: autocast dtype of the backbone on CUDA (fp16 keeps about 8× more mantissa than bf16: on the
#: bundled demo model bf16 moved probabilities by up to 0.03, fp16 by under 0.01)
PRECISIONS = ("fp16", "bf16", "fp32")
Precision = Literal["fp16", "bf16", "fp32"]
DEFAULT_PRECISION: Precision = "fp16"


@dataclass(frozen=True)
class CropSpec:
    """How one network wants a face cut: geometry, margin around the detector's box, size."""

    geometry: str
    margin: float
    size: int

    def to_public(self) -> dict[str, object]:
        return {"geometry": self.geometry, "margin": round(self.margin, 6), "size": self.size}
