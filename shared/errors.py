"""Error types of DeepfakeStream.

Every failure a user can meet is one of these types. Each carries what is needed to render
it as an RFC 9457 problem (API), a one-line message with a distinct exit code (CLI), and a
stored `error` on a failed job. They are mapped once, in `services/api/problems.py` and
`services/cli/common.py`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

PROBLEM_BASE = "/problems/"

#: What must never reach a client: heap addresses (`[ffv1 @ 0x558b...]`), file names in quotes
#: (`'/tmp/dfs-det-.../source.jpg'`) and absolute local paths (worker temp folders, mounts).
_ADDRESS_TAG = re.compile(r"\[[\w.-]+ @ 0x[0-9a-fA-F]+\]\s*")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
_QUOTED_PATH = re.compile(r"""(?:file:)?(['"])(?:[A-Za-z]:)?[/\\][^'"]*\1""")
_LOCAL_PATH = re.compile(
    r"(?<![\w/.:])(?:file:)?/(?:tmp|var|home|root|usr|etc|opt|srv|data|mnt|media|run|proc|dev|work|app|private)"
    r"(?:/[^\s'\"(),;]*)?"
)


def public_text(text: str) -> str:
    """`text` without the places things live in (local paths) or heap addresses: what may be
    shown to a client or stored as a job's error."""
    text = _ADDRESS_TAG.sub("", text)
    text = _ADDRESS.sub("0x…", text)
    text = _QUOTED_PATH.sub("(a local file)", text)
    return _LOCAL_PATH.sub("(a local file)", text)


class DFSError(Exception):
    """Base of every expected failure."""

    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    #: Whether retrying the same work later may succeed (a worker retries these).
    transient: ClassVar[bool] = False

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": public_text(self.detail),
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidRequest(DFSError):
    slug = "invalid-request"
    title = "Invalid request"
    status = 422
    exit_code = 2

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, **({"errors": errors} if errors else {}))


class MalformedRequest(DFSError):
    """The request cannot even be parsed (a broken multipart body, JSON that is not JSON)."""

    slug = "malformed-request"
    title = "Malformed request"
    status = 400
    exit_code = 2


class UnsupportedMedia(DFSError):
    slug = "unsupported-media"
    title = "Unsupported media type"
    status = 415
    exit_code = 3


class CorruptMedia(DFSError):
    slug = "corrupt-media"
    title = "Media could not be decoded"
    status = 422
    exit_code = 4


class MediaTooLarge(DFSError):
    slug = "media-too-large"
    title = "Media too large"
    status = 413
    exit_code = 5


class NotFound(DFSError):
    slug = "not-found"
    title = "Not found"
    status = 404
    exit_code = 6


class Conflict(DFSError):
    slug = "conflict"
    title = "Conflict"
    status = 409
    exit_code = 7


class StorageUnavailable(DFSError):
    slug = "storage-unavailable"
    title = "Object storage unavailable"
    status = 503
    exit_code = 8
    transient = True


class BrokerUnavailable(DFSError):
    slug = "broker-unavailable"
    title = "Message broker unavailable"
    status = 503
    exit_code = 8
    transient = True


class ModelError(DFSError):
    """The configured checkpoint is missing, unreadable, or does not match this code."""

    slug = "model-error"
    title = "Model checkpoint error"
    status = 500
    exit_code = 9


class ToolFailed(DFSError):
    """ffmpeg/ffprobe failed or timed out for a reason not attributable to the media."""

    slug = "tool-failed"
    title = "Media tool failed"
    status = 500
    exit_code = 10


class Unauthorized(DFSError):
    slug = "unauthorized"
    title = "Unauthorized"
    status = 401
    exit_code = 11


class Forbidden(DFSError):
    slug = "forbidden"
    title = "Forbidden"
    status = 403
    exit_code = 11


class RateLimited(DFSError):
    slug = "rate-limited"
    title = "Too many requests"
    status = 429
    exit_code = 12


class FeatureUnavailable(DFSError):
    """The request needs something this deployment does not have (e.g. presigned uploads on
    the local-folder object store)."""

    slug = "feature-unavailable"
    title = "Not available on this deployment"
    status = 501
    exit_code = 14


class Cancelled(DFSError):
    slug = "cancelled"
    title = "Job cancelled"
    status = 409
    exit_code = 13


def problem_from_exception(exc: BaseException) -> dict[str, Any]:
    """The problem body stored on a failed job; unexpected exceptions become a generic 500."""
    if isinstance(exc, DFSError):
        return exc.to_problem()
    return {
        "type": PROBLEM_BASE + "internal",
        "title": "Internal error",
        "status": 500,
        "detail": public_text(f"{type(exc).__name__}: {exc}")[:500],
    }
