"""Group-disjoint splits: every sample of a group (identity / original video) lands on the
same side, decided by a hash of the group name, so the split is stable across runs and
machines and no face leaks from training into validation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def group_bucket(group: str, seed: int = 0) -> float:
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_group(
    items: Sequence[T], groups: Sequence[str], val_fraction: float, seed: int = 0
) -> tuple[list[T], list[T]]:
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be in (0, 1)")
    unique = sorted(set(groups))
    val_groups = {g for g in unique if group_bucket(g, seed) < val_fraction}
    if not val_groups and len(unique) > 1:  # tiny datasets: still hold one group out
        val_groups = {min(unique, key=lambda g: group_bucket(g, seed))}
    if val_groups == set(unique) and len(unique) > 1:
        val_groups.discard(max(unique, key=lambda g: group_bucket(g, seed)))
    train = [it for it, g in zip(items, groups, strict=True) if g not in val_groups]
    val = [it for it, g in zip(items, groups, strict=True) if g in val_groups]
    return train, val
