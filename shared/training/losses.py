"""Focal loss (Lin et al. 2017), as the seed model was trained with."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> torch.Tensor:
    """Binary focal loss on logits; `alpha` weighs positives (fakes), `gamma` down-weights easy
    examples. alpha < 0 disables the class weighting."""
    targets = targets.float()
    bce = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none")
    p = torch.sigmoid(logits.float())
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = bce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return loss.mean()
