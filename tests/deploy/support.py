"""Helpers for the deployment-file tests: the CLI as the containers invoke it, the settings,
and Helm rendering with Helm's own engine (helm-python-sdk: Helm v4's Go SDK through ctypes,
no helm binary, no cluster)."""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

import click
import yaml

from tests.support.services import REPO_ROOT

CHART = REPO_ROOT / "helm" / "deepfakestream"


def console_scripts() -> set[str]:
    return set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def resolve_cli(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse a container command line the way `deepfakestream` would, without running it.

    Returns the leaf command's name and its parsed parameters; raises click.UsageError (unknown
    command or option, bad value) when the command would fail to start.
    """
    from services.cli.main import cli

    assert argv and argv[0] in console_scripts(), f"{argv[:1]} is not one of the package's console scripts"
    ctx = cli.make_context(argv[0], list(argv[1:]))
    cmd: click.Command = cli
    while isinstance(cmd, click.Group):
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
        pending = [*protected, *ctx.args]
        name, sub, rest = cmd.resolve_command(ctx, pending)
        assert sub is not None and name is not None, f"no command in {argv}"
        ctx = sub.make_context(name, rest, parent=ctx)
        cmd = sub
    return str(cmd.name), dict(ctx.params)


def setting_names() -> set[str]:
    """Every DFS_* environment variable the settings object reads."""
    import sys

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from config_table import rows

    from shared.config import Settings

    return {name for name, _, _ in rows(Settings)}


@cache
def _render(values_yaml: str, release: str) -> tuple[tuple[str, str], ...]:
    import helm_python as helm

    values = yaml.safe_load(values_yaml) or {}
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name=release, namespace="dfs", is_install=True)
    return tuple(sorted(rendered.items()))


def render(values: dict[str, Any] | None = None, release: str = "dfs") -> list[dict[str, Any]]:
    """The chart's manifests (documents) for these values, like `helm template`."""
    out = []
    for path, text in _render(yaml.safe_dump(values or {}), release):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["_template"] = path
                out.append(doc)
    return out


def values_file(path: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / path).read_text()) or {}


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(deployment: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return dict(deployment["spec"]["template"]["spec"]["containers"][index])


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}
