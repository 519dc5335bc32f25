"""`deepfakestream`: the command line.

Every failure prints one readable line on stderr and exits non-zero (the exit code depends on
the error type; see shared/errors.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import click

from services.cli import data, integrator, provenance, streams, training
from services.cli.common import friendly_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="deepfakestream")
def cli() -> None:
    """DeepfakeStream: is this face real? Analyse media locally or run the service."""


# --- analysis ---------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON on stdout.")
@click.option(
    "--checkpoint", help="Model checkpoint (path or s3:// URI); default DFS_CHECKPOINT or the demo."
)
@click.option("--faces/--no-faces", default=False, help="With --json: include every scored face.")
@friendly_errors
def analyze(file: Path, as_json: bool, checkpoint: str | None, faces: bool) -> None:
    """Analyse FILE (video or image) in this process, with no servers."""
    from shared.config import get_settings
    from shared.pipeline.runner import analyze_file

    settings = get_settings()
    if checkpoint:
        settings = settings.model_copy(update={"checkpoint": checkpoint})
    bar = _progress_bar(quiet=False)
    try:
        analysis = analyze_file(file, settings, progress=bar)
    finally:
        bar.close()
    if as_json:
        click.echo(json.dumps(analysis.to_public(include_faces=faces), indent=2))
        return
    click.echo(render_summary(analysis))


class _progress_bar:
    """A tqdm bar on stderr that follows the runner's (stage, done, total) reports."""

    def __init__(self, quiet: bool) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar: Any = None
        self.stage: str | None = None
        self.quiet = quiet

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if stage != self.stage:
            if self.bar is not None:
                self.bar.close()
            self.stage = stage
            unit = "segment" if stage == "analyze" else "step"
            self.bar = self._tqdm(
                total=total,
                desc=stage,
                unit=unit,
                file=sys.stderr,
                leave=False,
                disable=not sys.stderr.isatty(),
            )
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def render_summary(analysis: Any) -> str:
    r = analysis.result
    m = analysis.media
    lines = []
    verdict = r["verdict"].upper().replace("_", " ")
    prob = "n/a" if r["probability"] is None else f"{r['probability']:.3f}"
    lines.append(f"{analysis.filename}: {verdict} (probability {prob}, threshold {r['threshold']:.2f})")
    if m.kind == "video":
        lines.append(
            f"  media: video {m.display_width}x{m.display_height}, {m.duration_s or 0:.2f} s, "
            f"{m.fps or 0:g} fps, {m.codec}"
        )
    else:
        lines.append(f"  media: image {m.display_width}x{m.display_height}")
    model = r["model"]
    lines.append(f"  model: {model['name']} {model['version']} (sha256 {model['sha256'][:12]})")
    if r.get("warning"):
        lines.append(f"  warning: {r['warning']}")
    lines.append(f"  faces scored: {r['faces_scored']}")
    lines.extend(provenance.render_provenance(analysis.provenance))
    for seg in r["segments"]:
        p = "   no face" if seg["probability"] is None else f"{seg['probability']:10.3f}"
        lines.append(
            f"  segment {seg['index']:3d}  {seg['start_s']:7.2f}-{seg['end_s']:7.2f} s  {p}  "
            f"({seg['faces']} faces in {seg['frames_sampled']} frames)"
        )
    t = analysis.timings
    lines.append(
        "  time: {total_s:.2f} s (decode {decode_s:.2f}, detect {detect_s:.2f}, score {score_s:.2f})".format(
            **{k: t.get(k, 0.0) for k in ("total_s", "decode_s", "detect_s", "score_s")}
        )
    )
    return "\n".join(lines)


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--subject",
    type=click.Choice(["astronaut", "grace_hopper", "coffee", "rocket"]),
    default="astronaut",
    show_default=True,
    help="astronaut and grace_hopper have a face; coffee and rocket do not.",
)
@click.option("--seconds", type=float, default=8.0, show_default=True)
@click.option("--width", type=int, default=1280, show_default=True)
@click.option("--height", type=int, default=720, show_default=True)
@click.option("--fps", type=int, default=25, show_default=True)
@click.option("--bitrate", default=None, help="e.g. 5M (default: constant quality)")
@friendly_errors
def sample(
    out: Path, subject: str, seconds: float, width: int, height: int, fps: int, bitrate: str | None
) -> None:
    """Write a sample clip (or an image, by extension .jpg/.png/.webp) made from a real photo."""
    from shared.media.samples import Subject, make_clip, write_image

    name = cast(Subject, subject)  # click.Choice has checked it
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
        write_image(out, name)
    else:
        make_clip(
            out,
            name,
            seconds=seconds,
            width=width,
            height=height,
            fps=fps,
            bitrate=bitrate,
            grain=10 if bitrate else 0,
        )
    click.echo(str(out))


# --- model ------------------------------------------------------------------------------


@cli.group()
def model() -> None:
    """Model checkpoints."""


@model.command("init")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--backbone", default="efficientnet_b0", show_default=True)
@click.option("--input-size", type=int, default=None, help="Default: the backbone's customary size.")
@click.option("--seed", type=int, default=0, show_default=True)
@friendly_errors
def model_init(out: Path, backbone: str, input_size: int | None, seed: int) -> None:
    """Save a freshly initialised (untrained) network as a checkpoint."""
    from shared.model.architectures import BACKBONES, NetworkConfig
    from shared.model.checkpoint import init_checkpoint

    if backbone not in BACKBONES:
        raise click.BadParameter(f"choose one of {', '.join(BACKBONES)}", param_hint="--backbone")
    meta = init_checkpoint(
        out, NetworkConfig(backbone=backbone, input_size=input_size or BACKBONES[backbone]), seed=seed
    )
    click.echo(f"{out}: {meta.name} {meta.version}")


@model.command("info")
@click.argument("checkpoint", required=False)
@friendly_errors
def model_info(checkpoint: str | None) -> None:
    """Print the model card of a checkpoint or ensemble (DFS_CHECKPOINT syntax: a path, an
    s3:// URI, a comma list or an ensemble manifest; default: the configured checkpoint)."""
    from shared.config import get_settings
    from shared.model.card import read_card
    from shared.model.checkpoint import check_compatible

    settings = get_settings()
    card = read_card(checkpoint or settings.checkpoint, settings)
    for f in card.files:
        check_compatible(f.meta)
    doc = card.meta.model_dump() | {"serving": card.serving_policy()}
    if card.is_ensemble:
        doc["sha256"] = card.sha256
        doc["members"] = [
            f.meta.model_dump()
            | {"path": str(f.path), "sha256": f.sha256, "serving": f.meta.serving_policy()}
            for f in card.members
        ]
    else:
        doc |= {"path": str(card.files[0].path), "sha256": card.sha256}
    click.echo(json.dumps(doc, indent=2))


# --- database ---------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@friendly_errors
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations (builds the schema on Postgres or SQLite)."""
    from shared.config import get_settings
    from shared.db.engine import current_revision, upgrade_database

    upgrade_database(get_settings().resolved_database_url, revision)
    click.echo(f"database at revision {current_revision()}")


# --- services ---------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
@friendly_errors
def api(host: str, port: int, workers: int) -> None:
    """Run the HTTP API."""
    import uvicorn

    uvicorn.run(
        "services.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


ALL_QUEUES = "segment,detect,aggregate,webhooks,maintenance"


def celery_worker_argv(queues: str, concurrency: int, pool: str, name: str | None) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "services.worker.app:app",
        "worker",
        "--queues",
        queues,
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--prefetch-multiplier",
        "1",
    ]
    if name:
        argv += ["--hostname", name]
    return argv


@cli.command()
@click.option("--queues", default=ALL_QUEUES, show_default=True, help="Comma-separated queues to consume.")
@click.option("--concurrency", type=int, default=1, show_default=True)
@click.option(
    "--pool", type=click.Choice(["prefork", "solo", "threads"]), default="prefork", show_default=True
)
@click.option("--name", default=None, help="Worker node name (default celery@hostname).")
@friendly_errors
def worker(queues: str, concurrency: int, pool: str, name: str | None) -> None:
    """Run a Celery worker. Detect workers load the models before taking work."""
    env = dict(os.environ)
    if "detect" in queues.split(","):
        env.setdefault("DFS_WORKER_PRELOAD_MODELS", "1")
    os.execvpe(sys.executable, celery_worker_argv(queues, concurrency, pool, name), env)


@cli.command()
@friendly_errors
def beat() -> None:
    """Run Celery beat (schedules the reconciler)."""
    from shared.config import get_settings

    schedule = get_settings().data_dir / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "services.worker.app:app",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(schedule),
        ],
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--detect-workers", type=int, default=1, show_default=True, help="Detector worker processes.")
@friendly_errors
def serve(host: str, port: int, detect_workers: int) -> None:
    """Run the whole stack on this machine: migrations, API, every worker and beat.

    With no DFS_* settings it needs no server (SQLite, local folder, filesystem broker); with
    DFS_DATABASE_URL, DFS_BROKER_URL and DFS_S3_ENDPOINT set it runs against Postgres, Redis
    and S3. Stops everything on Ctrl-C.
    """
    from shared.config import get_settings
    from shared.db.engine import upgrade_database

    settings = get_settings()
    upgrade_database(settings.resolved_database_url)
    me = [sys.executable, "-m", "services.cli"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    specs: list[tuple[str, list[str]]] = [
        ("api", [*me, "api", "--host", host, "--port", str(port)]),
        (
            "worker-cpu",
            [
                *me,
                "worker",
                "--queues",
                "segment,aggregate,webhooks,maintenance",
                "--concurrency",
                "2",
                "--name",
                "cpu@%h",
            ],
        ),
        (
            "worker-ingest",
            [
                *me,
                "worker",
                "--queues",
                "ingest",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--name",
                "ingest@%h",
            ],
        ),
        ("beat", [*me, "beat"]),
    ]
    for i in range(detect_workers):
        specs.append((f"worker-detect-{i}", [*me, "worker", "--queues", "detect", "--name", f"detect{i}@%h"]))
    for name, argv in specs:
        procs[name] = subprocess.Popen(argv, start_new_session=True)
    where = "embedded defaults" if settings.is_embedded else "configured services"
    click.echo(f"DeepfakeStream running on http://{host}:{port} ({where}); Ctrl-C stops it", err=True)

    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, p in procs.items():
            if p.poll() is not None:
                click.echo(f"error: {name} exited with {p.returncode}; stopping the stack", err=True)
                stopping, exit_code = True, 1
                break
        time.sleep(0.5)
    # SIGTERM to each leader only: Celery then shuts down warm (finishes the running task)
    for p in procs.values():
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.time() + 60
    for p in procs.values():
        try:
            p.wait(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    sys.exit(exit_code)


@cli.command()
@click.argument("component", type=click.Choice(["api", "worker"]))
@click.option("--url", default="http://127.0.0.1:8000/healthz", show_default=True)
@click.option("--max-age", type=float, default=60.0, show_default=True, help="Worker heartbeat max age (s).")
@click.option("--ready", is_flag=True, help="Worker: also require the models-loaded ready file.")
def healthcheck(component: str, url: str, max_age: float, ready: bool) -> None:
    """Container health check: the API answers, or the worker's heartbeat file is fresh."""
    if component == "api":
        import httpx

        try:
            ok = httpx.get(url, timeout=3).status_code == 200
        except httpx.HTTPError:
            ok = False
        sys.exit(0 if ok else 1)
    from shared.config import get_settings

    s = get_settings()
    if s.worker_heartbeat_file is None:
        click.echo("error: DFS_WORKER_HEARTBEAT_FILE is not set", err=True)
        sys.exit(2)
    try:
        age = time.time() - s.worker_heartbeat_file.stat().st_mtime
    except FileNotFoundError:
        sys.exit(1)
    if age > max_age:
        sys.exit(1)
    if ready and (s.worker_ready_file is None or not s.worker_ready_file.exists()):
        sys.exit(1)
    sys.exit(0)


# Commands contributed by other modules (training toolkit; tenants, API keys, client; provenance).
training.register(cli)
integrator.register(cli)
data.register(cli)
provenance.register(cli)
streams.register(cli)


def main() -> None:
    cli(prog_name="deepfakestream")


if __name__ == "__main__":
    main()
