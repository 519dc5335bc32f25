"""Training toolkit commands: extract-faces, train, evaluate, train-bundled, model import-dfdc."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from services.cli.common import friendly_errors


def _bar(desc: str) -> Any:
    from tqdm import tqdm

    bar = tqdm(desc=desc, file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    update.close = bar.close  # type: ignore[attr-defined]
    return update


@click.command("extract-faces")
@click.option("--data", "data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option(
    "--layout",
    type=click.Choice(["dfdc", "folder"]),
    required=True,
    help="dfdc: folders of .mp4 + metadata.json; folder: real/ and fake/ sub-folders.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--frames", type=int, default=16, show_default=True, help="Frames sampled per video.")
@click.option("--size", type=int, default=224, show_default=True, help="Crop size (the model's input).")
@click.option("--margin", type=float, default=0.3, show_default=True)
@click.option(
    "--geometry",
    type=click.Choice(["square", "dfdc-rect"]),
    default="square",
    show_default=True,
    help="Crop geometry (written into the trained model's card, so serving cuts the same).",
)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Parallel processes (one face detector each; DFS_FACE_DETECTOR and its DFS_MTCNN__* knobs).",
)
@friendly_errors
def extract_faces_cmd(
    data: Path, layout: str, out: Path, frames: int, size: int, margin: float, geometry: str, workers: int
) -> None:
    """Detect and crop the faces of a dataset once (resumable), for training and evaluation."""
    from shared.config import get_settings
    from shared.training.datasets.dfdc import read_dfdc
    from shared.training.datasets.folder import read_folder
    from shared.training.extract import ExtractConfig, extract_faces

    samples = read_dfdc(data) if layout == "dfdc" else read_folder(data)
    bar = _bar("extract")
    summary = extract_faces(
        samples,
        out,
        ExtractConfig(frames, size, margin, geometry),
        settings=get_settings(),
        workers=workers,
        progress=bar,
    )
    bar.close()
    click.echo(f"{summary['samples']} files, {summary['faces']} faces → {out}/index.jsonl")
    for sid, err in summary["errors"].items():
        click.echo(f"  skipped {sid}: {err}", err=True)


@click.command("train")
@click.option(
    "--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option("--no-resume", is_flag=True, help="Start over even if the output folder has a previous run.")
@friendly_errors
def train_cmd(config: Path, no_resume: bool) -> None:
    """Train the detection network (YAML or JSON config; see docs/model.md)."""
    from shared.training.train import TrainConfig, train

    cfg = TrainConfig.load(config)
    if no_resume:
        cfg.resume = False
    summary = train(cfg, show_progress=sys.stderr.isatty(), log=lambda m: click.echo(m, err=True))
    click.echo(
        json.dumps({k: summary[k] for k in ("best_val_f1", "epochs", "stopped_early", "best", "device")})
    )


@click.command("evaluate")
@click.option("--checkpoint", required=True, help="A checkpoint path (or s3:// URI).")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A folder made by extract-faces.",
)
@click.option("--selfblend", is_flag=True, help="Also score a self-blended pseudo-fake of every real face.")
@click.option(
    "--calibrate", is_flag=True, help="Write the F1-optimal threshold (and metrics) into the checkpoint."
)
@click.option("--threshold-level", type=click.Choice(["auto", "face", "segment", "video"]), default="auto")
@click.option(
    "--segment-seconds",
    type=float,
    default=None,
    help="Segment length for segment-level scores.  [default: DFS_SEGMENT_SECONDS, as served]",
)
@click.option(
    "--report",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write report.md, roc.png, pr.png and metrics.json here.",
)
@click.option("--name", default=None, help="Name of this data in the model card's metrics.")
@friendly_errors
def evaluate_cmd(
    checkpoint: str,
    data: Path,
    selfblend: bool,
    calibrate: bool,
    threshold_level: str,
    segment_seconds: float | None,
    report: Path | None,
    name: str | None,
) -> None:
    """F1, precision, recall, ROC-AUC, log loss and confusion matrix at face, segment and video level."""
    from shared.config import get_settings
    from shared.training.evaluate import evaluate

    res = evaluate(
        checkpoint,
        data,
        selfblend=selfblend,
        calibrate=calibrate,
        threshold_level=threshold_level,  # type: ignore[arg-type]
        segment_seconds=segment_seconds,
        report_dir=report,
        dataset_name=name,
        device=get_settings().torch_device(),
    )
    click.echo(f"threshold {res['threshold']:.4f} ({res['threshold_source']})")
    for lvl, m in res["levels"].items():
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
        click.echo(
            f"{lvl:8s} n={m['n']:5d} F1 {m['f1']:.4f}  P {m['precision']:.4f}  R {m['recall']:.4f}  "
            f"AUC {auc}  log loss {m['log_loss']:.4f}  {m['confusion']}"
        )
    if report:
        click.echo(f"report: {report / 'report.md'}")


@click.command("import-dfdc")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--backbone", default="tf_efficientnet_b7", show_default=True)
@click.option("--input-size", type=int, default=380, show_default=True)
@click.option("--name", default="dfdc-selimsef-b7", show_default=True)
@click.option("--version", default=None, help="Default: the source file's name.")
@click.option(
    "--trust-pickle", is_flag=True, help="Allow arbitrary pickled objects (only for files you trust)."
)
@friendly_errors
def import_dfdc_cmd(
    src: Path, out: Path, backbone: str, input_size: int, name: str, version: str | None, trust_pickle: bool
) -> None:
    """Convert a DFDC winning-solution checkpoint (selimsef) into a DeepfakeStream checkpoint."""
    from shared.model.dfdc import import_dfdc

    meta = import_dfdc(
        src,
        out,
        backbone=backbone,
        input_size=input_size,
        name=name,
        version=version,
        trust_pickle=trust_pickle,
    )
    click.echo(f"{out}: {meta.name} {meta.version}")


@click.command("export-fp16")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@friendly_errors
def export_fp16_cmd(src: Path, dst: Path) -> None:
    """Copy a checkpoint with half-precision weights (half the size)."""
    from shared.training.train import export_fp16

    export_fp16(src, dst)
    click.echo(str(dst))


@click.command("train-bundled")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder made by `deepfakestream data fetch-faces` (default: <data dir>/corpus).",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Working folder: landmarks, rendered pairs, runs, calibration clips (reused when present).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The fp16 checkpoint."
)
@click.option("--variant", type=click.Choice(["sbi", "sbi+swap"]), default="sbi", show_default=True)
@click.option("--minutes", type=float, default=35.0, show_default=True, help="Training time budget.")
@click.option("--views", type=int, default=16, show_default=True, help="Rendered pairs per training face.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="Rendering processes.")
@click.option(
    "--threads",
    type=int,
    default=1,
    show_default=True,
    help="Torch threads for training (1: immune to the thread collapse of a loaded 2-core machine).",
)
@click.option(
    "--skip-training",
    is_flag=True,
    help="Only calibrate and export the candidate a previous run left in --work.",
)
@friendly_errors
def train_bundled_cmd(
    corpus: Path | None,
    work: Path,
    out: Path,
    variant: str,
    minutes: float,
    views: int,
    seed: int,
    workers: int,
    threads: int,
    skip_training: bool,
) -> None:
    """Build the bundled checkpoint from the package-registry face corpus (docs/model.md)."""
    from shared.config import get_settings
    from shared.errors import InvalidRequest
    from shared.training.recipe import build_bundled

    corpus = corpus or get_settings().data_dir / "corpus"
    if not (corpus / "manifest.json").is_file():
        raise InvalidRequest(
            f"no face corpus at {corpus}: run `deepfakestream data fetch-faces --out {corpus}` first"
        )
    summary = build_bundled(
        corpus,
        work,
        out,
        variant=variant,
        minutes=minutes,
        views=views,
        seed=seed,
        workers=workers,
        threads=threads,
        skip_training=skip_training,
        log=lambda m: click.echo(m, err=True),
    )
    click.echo(json.dumps(summary, indent=2))


def register(cli: click.Group) -> None:
    for cmd in (extract_faces_cmd, train_cmd, evaluate_cmd, train_bundled_cmd):
        cli.add_command(cmd)
    model_group = cli.commands["model"]
    assert isinstance(model_group, click.Group)
    model_group.add_command(import_dfdc_cmd)
    model_group.add_command(export_fp16_cmd)
