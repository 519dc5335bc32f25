"""Structured logging: JSON lines in production, readable text locally. Records carry
`job_id` and `segment` whenever the caller passes them in `extra`."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from shared.config import Settings, get_settings

CONTEXT_FIELDS = (
    "job_id",
    "segment",
    "task",
    "tenant_id",
    "request_id",
    "status_code",
    "duration_ms",
    "delivery_id",
)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


#: Control characters a client may smuggle into a logged path or value (NUL, ESC, CR, ...);
#: newlines stay (tracebacks), everything else is written as `\xNN`.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        ctx = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if hasattr(record, k))
        return escape_controls(f"{base} {ctx}" if ctx else base)


def configure_logging(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    # The process's real stderr: inside a Celery worker sys.stderr is a proxy that logs to the
    # root logger, and a root handler writing to it would drop every record (recursion guard).
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "urllib3", "botocore", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
