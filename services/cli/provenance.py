"""`deepfakestream provenance FILE`: read and validate a file's C2PA Content Credentials, with
no model and no servers. The same stage (`shared.provenance.read_provenance`) and the same
document as a job's `provenance` and `analyze --json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from services.cli.common import friendly_errors


def render_provenance(doc: dict[str, Any]) -> list[str]:
    """The provenance document as indented lines for a person (also used by `analyze`)."""
    if not doc.get("present"):
        return ["  provenance: no Content Credentials (no C2PA manifest)"]
    state = "valid" if doc["valid"] else "INVALID"
    trust = "trusted signer" if doc["trusted"] else "signer not on the trust list"
    lines = [f"  provenance: Content Credentials present, {state}, {trust}"]
    signer = doc.get("signer") or {}
    if signer:
        lines.append(
            f"    signer: {signer.get('common_name') or '?'} ({signer.get('issuer') or 'no organisation'})"
        )
    if doc.get("claim_generator"):
        lines.append(f"    written by: {doc['claim_generator']}")
    if doc.get("created_at"):
        lines.append(f"    created: {doc['created_at']}")
    ai = doc.get("ai_generated")
    declared = {
        True: "AI-generated (declared by the manifest)",
        False: "not AI-generated (declared by the manifest)",
        None: "no declaration",
    }
    lines.append(f"    AI: {declared[ai]}")
    for a in doc.get("actions") or []:
        extra = ", ".join(v for v in (a.get("digital_source_type"), a.get("software_agent")) if v)
        lines.append(f"    action: {a.get('action')}" + (f" ({extra})" if extra else ""))
    if doc.get("ingredients"):
        lines.append(f"    ingredients: {doc['ingredients']}")
    for e in doc.get("validation_errors") or []:
        lines.append(f"    validation error: {e['code']}: {e['explanation']}")
    return lines


@click.command("provenance")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the provenance document as JSON on stdout.")
@friendly_errors
def provenance(file: Path, as_json: bool) -> None:
    """Read and validate FILE's C2PA Content Credentials (no model, no servers).

    Exits 0 whenever the file could be examined, whatever the manifest says (absent, invalid,
    untrusted: see the output); non-zero for a missing or unsupported file. Trust anchors come
    from DFS_PROVENANCE_TRUST_ANCHORS (a PEM bundle)."""
    from shared.config import get_settings
    from shared.errors import NotFound
    from shared.media.sniff import SNIFF_BYTES, sniff
    from shared.provenance import read_provenance

    if not file.is_file():
        raise NotFound(f"{file} does not exist or is not a file")
    with file.open("rb") as fh:
        media_type = sniff(fh.read(SNIFF_BYTES))
    doc = read_provenance(file, media_type, get_settings())
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{file.name}:")
    click.echo("\n".join(render_provenance(doc)))


def register(cli: click.Group) -> None:
    cli.add_command(provenance)
