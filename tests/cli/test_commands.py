"""Every `deepfakestream` command is reachable and documented, and failures are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from services.cli.main import cli
from tests.support.services import REPO_ROOT

#: What a user finds in `deepfakestream --help`, whichever module contributes the command.
TOP_LEVEL = {
    "analyze",
    "sample",
    "model",
    "db",
    "api",
    "worker",
    "beat",
    "serve",
    "healthcheck",  # main
    "extract-faces",
    "train",
    "evaluate",
    "train-bundled",  # training toolkit
    "tenants",
    "keys",
    "submit",
    "job",  # integrators and operators
    "data",  # face corpus
    "provenance",  # C2PA Content Credentials
    "watch",  # live streams, in process
}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


def test_help_of_the_installed_entry_point_lists_every_command() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    listed = {line.split()[0] for line in r.stdout.split("Commands:", 1)[1].splitlines() if line.strip()}
    assert listed == TOP_LEVEL


@pytest.mark.parametrize("path", command_paths(cli), ids=" ".join)
def test_every_sub_command_has_help(path: tuple[str, ...]) -> None:
    r = CliRunner().invoke(cli, [*path, "--help"], prog_name="deepfakestream")
    assert r.exit_code == 0, r.output
    assert f"Usage: deepfakestream {' '.join(path)}" in r.output


def test_model_group_holds_the_training_commands() -> None:
    model = cli.commands["model"]
    assert isinstance(model, click.Group)
    assert {"init", "info", "import-dfdc", "export-fp16"} <= set(model.commands)


def test_a_failure_is_one_line_on_stderr_with_the_error_type_exit_code(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "services.cli", "analyze", str(tmp_path / "missing.mp4")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert r.returncode == 6  # NotFound
    assert r.stderr.strip().splitlines() == [
        f"error: not found: {tmp_path / 'missing.mp4'} does not exist or is not a file"
    ]
    assert r.stdout == ""
