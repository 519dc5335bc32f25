"""The provenance stage: C2PA Content Credentials of an upload, read and validated.

`read_provenance(path, media_type, settings)` runs once per upload (the segmenter for a video,
the detector for an image, the in-process runner for `analyze`, the `provenance` command) and
returns the public `provenance` document:

    {"present", "valid", "trusted", "validation_errors": [{"code", "explanation"}],
     "signer": {"issuer", "common_name"} | null, "claim_generator", "created_at",
     "actions": [{"action", "digital_source_type", "software_agent", "when"}],
     "ai_generated": true | false | null, "ingredients": n}

It is evidence beside the model's verdict, never an input to it: `ai_generated` is what the
manifest declares (digital source types of its actions), nothing else. The manifest is read in
a child process bounded in memory (`provenance_max_memory_mb`) and time
(`provenance_timeout_s`); a manifest that is corrupt, hostile, too large or too slow yields
`valid: false` with a readable reason, and never an exception, so it never fails a job.
"""

from __future__ import annotations

import json
import logging
import mmap
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.media.sniff import MediaType
from shared.provenance.reader import absent, unreadable

__all__ = ["read_provenance", "absent"]

log = logging.getLogger(__name__)

#: The manifest store's JUMBF label; the container boxes that carry it all name it.
_MARKER = b"c2pa"
#: The child's answer is a bounded summary; anything longer is not ours.
_MAX_ANSWER_BYTES = 1024 * 1024
#: What a child that hit its address-space limit says (Python, Rust's allocator, the loader).
_OUT_OF_MEMORY = ("MemoryError", "memory allocation", "Cannot allocate memory", "failed to map segment")
#: Run as a script, so the child imports c2pa and the stdlib and nothing of ours.
_READER = Path(__file__).with_name("reader.py")


def _has_marker(path: Path) -> bool:
    """Whether the file carries anything labelled as C2PA (used only when the reader failed,
    to say whether a manifest was there)."""
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(_MARKER) >= 0
    except (OSError, ValueError):  # empty file, unreadable
        return False


def _trust_anchors(settings: Settings) -> tuple[str | None, dict[str, Any] | None]:
    """The configured trust anchors (PEM text), or the document explaining why they are unusable."""
    path = settings.provenance_trust_anchors
    if path is None:
        return None, None
    try:
        pem = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("the C2PA trust list cannot be read", extra={"path": str(path), "error": str(exc)})
        return None, {
            "code": "dfs.trustListUnreadable",
            "explanation": "the configured trust list cannot be read",
        }
    if "-----BEGIN CERTIFICATE-----" not in pem:
        return None, {
            "code": "dfs.trustListUnreadable",
            "explanation": "the configured trust list has no PEM certificate",
        }
    return pem, None


def read_provenance(path: Path, media_type: MediaType, settings: Settings) -> dict[str, Any]:
    """The `provenance` document of the media file at `path`, of the (sniffed) `media_type`."""
    pem, trust_problem = _trust_anchors(settings)
    request = {
        "path": str(path),
        "format": media_type.mime,
        "trust_anchors_pem": pem,
        "max_memory_mb": settings.provenance_max_memory_mb,
    }
    try:
        proc = subprocess.run(
            # -I: the child sees neither PYTHONPATH nor the current folder, only the stdlib and c2pa
            [sys.executable, "-I", str(_READER)],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=settings.provenance_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        doc = unreadable(
            "dfs.readerTimeout",
            f"reading the manifest took longer than {settings.provenance_timeout_s:g} s and was stopped",
            present=_has_marker(path),
        )
    except OSError as exc:  # the child could not even start (no memory for a fork, ...)
        log.warning("the C2PA reader could not start", extra={"error": str(exc)})
        doc = unreadable("dfs.readerFailed", "the manifest reader could not start", present=_has_marker(path))
    else:
        doc = _answer(proc, path, settings)
    if trust_problem is not None:
        doc["validation_errors"] = [*doc["validation_errors"], trust_problem]
    return doc


def _answer(proc: subprocess.CompletedProcess[bytes], path: Path, settings: Settings) -> dict[str, Any]:
    if proc.returncode == 0 and len(proc.stdout) <= _MAX_ANSWER_BYTES:
        try:
            doc = json.loads(proc.stdout)
            if isinstance(doc, dict) and set(doc) == set(absent()):
                return doc
        except ValueError:
            pass
    stderr = proc.stderr.decode("utf-8", "replace")
    log.warning("the C2PA reader failed", extra={"returncode": proc.returncode, "stderr": stderr[-2000:]})
    if any(sign in stderr for sign in _OUT_OF_MEMORY) or proc.returncode in (-6, -9):
        why = f"reading the manifest needed more than {settings.provenance_max_memory_mb} MiB and was stopped"
    else:
        why = f"the manifest reader failed (exit status {proc.returncode})"
    return unreadable("dfs.readerFailed", why, present=_has_marker(path))
