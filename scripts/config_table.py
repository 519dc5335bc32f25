#!/usr/bin/env python3
"""Print the configuration table (every DFS_* setting, its default and meaning) as Markdown.
README.md embeds its output between the `config-table` markers; a test keeps them in sync."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from shared.config import Settings  # noqa: E402


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return "(computed)"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def rows(model: type[BaseModel], prefix: str = "DFS_") -> list[tuple[str, str, str]]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += rows(ann, f"{prefix}{name.upper()}__")
            continue
        out.append((f"{prefix}{name.upper()}", _default(field), (field.description or "").replace("|", "/")))
    return out


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | `{d}` | {m} |" for n, d, m in rows(Settings)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
