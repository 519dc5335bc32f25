"""`deepfakestream train --config FILE`: train the detection network on extracted faces.

Focal loss, AdamW, cosine schedule with linear warm-up (per step), class balancing, the
seed's augmentations, bf16 autocast + channels_last on CUDA, a checkpoint (model card) every
epoch, resume from the last epoch, early stopping on validation F1, progress bars and a
JSONL metrics log. The best epoch is saved as `best.safetensors` with the validation
F1-optimal threshold in its model card.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, WeightedRandomSampler

from shared.errors import InvalidRequest
from shared.model.architectures import BACKBONES, NetworkConfig
from shared.model.checkpoint import CheckpointMeta, default_name, save_checkpoint
from shared.model.network import SRMEfficientNet, forward
from shared.training.augment import AugmentConfig
from shared.training.data import FaceCrops
from shared.training.extract import FaceRecord, read_index
from shared.training.losses import focal_loss
from shared.training.metrics import best_f1_threshold, binary_metrics
from shared.training.split import split_by_group


class DataConfig(BaseModel):
    path: Path = Field(description="A folder made by `deepfakestream extract-faces` (index.jsonl).")
    val_path: Path | None = Field(
        None, description="Separate validation faces; else a group split of `path`."
    )
    val_fraction: float = Field(0.2, gt=0, lt=1)
    selfblend: bool = Field(False, description="Add a self-blended pseudo-fake of every real face.")
    blend_color_jitter: float = Field(
        0.15, ge=0, le=1, description="Self-blend: colour jitter of the donor face."
    )
    blend_ratios: tuple[float, ...] = Field(
        (0.25, 0.5, 0.75, 1.0, 1.0, 1.0), description="Self-blend mask strengths."
    )
    description: str = Field("", description="What the data is, for the model card.")


class ModelConfig(BaseModel):
    backbone: str = "efficientnet_b0"
    input_size: int | None = None
    dropout: float = 0.2
    srm_clip: float | None = Field(
        3.0, gt=0, description="Clip the SRM noise maps at ±this (then scale to ±1); null: no clipping."
    )

    def network(self) -> NetworkConfig:
        if self.backbone not in BACKBONES:
            raise InvalidRequest(f"backbone {self.backbone!r} is not one of {sorted(BACKBONES)}")
        return NetworkConfig(
            backbone=self.backbone,
            input_size=self.input_size or BACKBONES[self.backbone],
            dropout=self.dropout,
            srm_clip=self.srm_clip,
        )


class OptimConfig(BaseModel):
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    focal_alpha: float = 0.5
    focal_gamma: float = 2.0
    max_steps_per_epoch: int | None = Field(None, ge=1, description="Cap for quick runs.")
    early_stopping_patience: int = Field(3, ge=1)
    num_workers: int = Field(0, ge=0)
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    augment: bool | Literal["full", "light"] = Field(
        True,
        description="true/full: the seed's whole augmentation set; light: flips, colour, mild JPEG; false: none.",
    )
    max_train_seconds: float | None = Field(None, gt=0, description="Stop after the epoch that crosses this.")


class TrainConfig(BaseModel):
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    output: Path
    name: str | None = None
    version: str | None = None
    description: str = ""
    resume: bool = True

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        text = path.read_text()
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            raw = json.loads(text)
        cfg = cls.model_validate(raw)
        # relative paths in a config file are relative to the file
        base = path.resolve().parent
        cfg.data.path = (base / cfg.data.path).resolve()
        if cfg.data.val_path is not None:
            cfg.data.val_path = (base / cfg.data.val_path).resolve()
        cfg.output = (base / cfg.output).resolve()
        return cfg


def lr_lambda(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return f


def _device(choice: str) -> str:
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def _split(cfg: TrainConfig) -> tuple[list[FaceRecord], list[FaceRecord], Path, Path]:
    records = read_index(cfg.data.path)
    if not records:
        raise InvalidRequest(f"{cfg.data.path} holds no faces")
    if cfg.data.val_path is not None:
        return records, read_index(cfg.data.val_path), cfg.data.path, cfg.data.val_path
    train, val = split_by_group(records, [r.group for r in records], cfg.data.val_fraction, cfg.optim.seed)
    if not val:
        raise InvalidRequest("validation split is empty: the data has a single group; give data.val_path")
    return train, val, cfg.data.path, cfg.data.path


@torch.inference_mode()
def predict(model: SRMEfficientNet, loader: DataLoader[Any], device: str) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    probs, labels = [], []
    for x, y in loader:
        logit, _ = forward(model, x.to(device, non_blocking=True), device)
        probs.append(torch.sigmoid(logit.float()).cpu().numpy())
        labels.append(y.numpy())
    return np.concatenate(probs), np.concatenate(labels)


def train(
    cfg: TrainConfig, *, show_progress: bool = True, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run (or resume) training; returns the summary also written to `output/summary.json`."""
    from tqdm import tqdm

    torch.manual_seed(cfg.optim.seed)
    random.seed(cfg.optim.seed)
    np.random.seed(cfg.optim.seed)
    device = _device(cfg.optim.device)
    net_cfg = _with_extraction_crop(cfg, cfg.model.network())
    train_recs, val_recs, train_root, val_root = _split(cfg)
    augment_cfg = {True: AugmentConfig(), "full": AugmentConfig(), "light": AugmentConfig.light()}.get(
        cfg.optim.augment, AugmentConfig.none()
    )
    margin = _margin(cfg.data.path)
    from shared.training.datasets.selfblend import BlendConfig

    blend = BlendConfig(color_jitter=cfg.data.blend_color_jitter, blend_ratios=cfg.data.blend_ratios)
    train_ds = FaceCrops(
        train_recs,
        train_root,
        input_size=net_cfg.input_size,
        selfblend=cfg.data.selfblend,
        augment_cfg=augment_cfg,
        train=True,
        margin=margin,
        seed=cfg.optim.seed,
        blend_cfg=blend,
    )
    val_ds = FaceCrops(
        val_recs,
        val_root,
        input_size=net_cfg.input_size,
        selfblend=cfg.data.selfblend,
        train=False,
        margin=margin,
        seed=cfg.optim.seed + 1,
        blend_cfg=blend,
    )
    labels = np.array(train_ds.labels)
    if len(set(labels.tolist())) < 2:
        raise InvalidRequest("the training data has a single class: add fakes or enable data.selfblend")
    counts = np.bincount(labels, minlength=2)
    weights = (1.0 / counts)[labels]
    steps_per_epoch = math.ceil(len(train_ds) / cfg.optim.batch_size)
    if cfg.optim.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, cfg.optim.max_steps_per_epoch)
    sampler = WeightedRandomSampler(
        weights.tolist(),
        num_samples=steps_per_epoch * cfg.optim.batch_size,
        replacement=True,
        generator=torch.Generator().manual_seed(cfg.optim.seed),
    )
    train_loader = DataLoader(
        train_ds,
        batch_size=cfg.optim.batch_size,
        sampler=sampler,
        num_workers=cfg.optim.num_workers,
        drop_last=False,
        persistent_workers=cfg.optim.num_workers > 0,
    )
    val_loader = DataLoader(
        val_ds, batch_size=max(cfg.optim.batch_size, 32), shuffle=False, num_workers=cfg.optim.num_workers
    )

    model = SRMEfficientNet(net_cfg).to(device)
    if device == "cuda":
        model = model.to(memory_format=torch.channels_last)
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.optim.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.optim.lr,
    )
    total_steps = steps_per_epoch * cfg.optim.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda(total_steps, int(total_steps * cfg.optim.warmup_fraction))
    )

    out = cfg.output
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "last.pt"
    start_epoch, best_f1, patience, history = 0, -1.0, 0, []
    if cfg.resume and state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start_epoch, best_f1, patience, history = (
            state["epoch"] + 1,
            state["best_f1"],
            state["patience"],
            state["history"],
        )
        log(f"resuming after epoch {start_epoch} (best validation F1 {best_f1:.4f})")
    (out / "config.json").write_text(cfg.model_dump_json(indent=2))
    metrics_log = out / "metrics.jsonl"

    name = cfg.name or default_name(net_cfg.backbone)
    version = cfg.version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M")
    data_desc = {
        "description": cfg.data.description,
        "train": {
            "path": str(cfg.data.path),
            "faces": len(train_recs),
            "groups": len({r.group for r in train_recs}),
        },
        "validation": {
            "path": str(val_root),
            "faces": len(val_recs),
            "groups": len({r.group for r in val_recs}),
        },
        "selfblend": cfg.data.selfblend,
    }
    stopped_early = False
    t_start = time.perf_counter()
    for epoch in range(start_epoch, cfg.optim.epochs):
        model.train()
        t0, seen, loss_sum = time.perf_counter(), 0, 0.0
        bar = tqdm(
            train_loader,
            total=steps_per_epoch,
            desc=f"epoch {epoch + 1}/{cfg.optim.epochs}",
            disable=not show_progress,
            leave=False,
        )
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logit, _ = forward(model, x, device)
            loss = focal_loss(logit, y, cfg.optim.focal_alpha, cfg.optim.focal_gamma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
        train_time = time.perf_counter() - t0
        probs, ys = predict(model, val_loader, device)
        threshold, _ = best_f1_threshold(ys, probs)
        at_half = binary_metrics(ys, probs, 0.5)
        at_best = binary_metrics(ys, probs, threshold)
        row = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / max(1, seen),
            "train_crops_per_s": seen / train_time,
            "lr": sched.get_last_lr()[0],
            "val": at_half.to_dict(),
            "val_best_threshold": at_best.to_dict(),
        }
        history.append(
            {k: row[k] for k in ("epoch", "train_loss")} | {"val_f1": at_half.f1, "val_auc": at_half.roc_auc}
        )
        with open(metrics_log, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        log(
            f"epoch {epoch + 1}: loss {row['train_loss']:.4f}, {row['train_crops_per_s']:.1f} crops/s, "
            f"val F1 {at_half.f1:.4f} (best-threshold {at_best.f1:.4f} @ {threshold:.3f}), "
            f"AUC {at_half.roc_auc if at_half.roc_auc is None else round(at_half.roc_auc, 4)}, "
            f"log loss {at_half.log_loss:.4f}"
        )
        meta = CheckpointMeta(
            name=name,
            version=f"{version}-e{epoch + 1}",
            trained=True,
            network=net_cfg.to_dict(),
            threshold=threshold,
            description=cfg.description,
            training=data_desc | {"epochs_done": epoch + 1, "config": json.loads(cfg.model_dump_json())},
            metrics={
                "validation": {
                    "data": data_desc["validation"],
                    "faces": at_best.to_dict(),
                    "faces_at_0.5": at_half.to_dict(),
                }
            },
        )
        epoch_path = save_checkpoint(model, meta, out / f"epoch-{epoch + 1:03d}.safetensors")
        improved = at_best.f1 > best_f1 + 1e-6
        if improved:
            best_f1, patience = at_best.f1, 0
            best_meta = meta.model_copy(update={"version": version})
            save_checkpoint(model, best_meta, out / "best.safetensors")
        else:
            patience += 1
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "epoch": epoch,
                "best_f1": best_f1,
                "patience": patience,
                "history": history,
            },
            state_path,
        )
        if epoch_path.exists() and epoch > 0:
            prev = out / f"epoch-{epoch:03d}.safetensors"
            prev.unlink(missing_ok=True)  # keep the latest epoch and the best one
        if patience >= cfg.optim.early_stopping_patience:
            log(f"early stopping: validation F1 has not improved for {patience} epochs")
            stopped_early = True
            break
        if cfg.optim.max_train_seconds and time.perf_counter() - t_start > cfg.optim.max_train_seconds:
            log(f"time budget of {cfg.optim.max_train_seconds:.0f} s reached after epoch {epoch + 1}")
            stopped_early = True
            break
    summary = {
        "best_val_f1": best_f1,
        "epochs": len(history),
        "history": history,
        "stopped_early": stopped_early,
        "best": str(out / "best.safetensors"),
        "device": device,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _with_extraction_crop(cfg: TrainConfig, net_cfg: NetworkConfig) -> NetworkConfig:
    """The network config with the margin and crop geometry the training faces were cut with
    (so the card makes serving cut the same); refuses faces cut at another size than the input
    size, and validation faces cut otherwise than the training faces."""
    import dataclasses

    from shared.training.extract import check_extraction, extraction_crop

    crop = extraction_crop(cfg.data.path)
    if crop is None:
        return net_cfg
    net_cfg = dataclasses.replace(net_cfg, face_margin=crop.margin, crop_geometry=crop.geometry)
    for folder in {cfg.data.path, cfg.data.val_path} - {None}:
        check_extraction(folder, net_cfg.crop, what=f"{net_cfg.backbone} at {net_cfg.input_size} px")  # type: ignore[arg-type]
    return net_cfg


def _margin(folder: Path) -> float:
    meta = folder / "extract.json"
    if meta.is_file():
        return float(json.loads(meta.read_text()).get("margin", 0.3))
    return 0.3


def export_fp16(src: Path, dst: Path) -> Path:
    """Copy a checkpoint with fp16 weights (half the size; served in fp32/bf16 anyway)."""
    from safetensors.torch import load_file, save_file

    from shared.model.checkpoint import read_meta

    meta = read_meta(src)
    tensors = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(src)).items()}
    tmp = dst.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"dfs": meta.model_dump_json()})
    shutil.move(tmp, dst)
    return dst
