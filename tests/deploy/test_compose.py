"""docker-compose.yml, without a Docker engine: valid against the Compose specification's
JSON schema (as written, and once interpolated with .env.example the way `docker compose`
does), every DeepfakeStream service command a real CLI command, startup ordered by health and
completion, every setting from .env.example, Prometheus scraping what runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
import yaml

from shared.broker.queues import Queue
from tests.deploy.support import resolve_cli, setting_names
from tests.deploy.test_dockerfile import env_of as dockerfile_env
from tests.deploy.test_dockerfile import stages as dockerfile_stages
from tests.support.services import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
WORKERS = ("segmenter", "detector", "detector-gpu", "aggregator", "webhooks", "ingest")
OURS = ("migrate", "api", *WORKERS, "beat")

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        have = env.get(name)
        unset_or_empty = have is None or (op is not None and op.startswith(":") and have == "")
        if op in (":?", "?") and unset_or_empty:
            raise KeyError(f"{name}: {arg}")
        if op in (":-", "-") and unset_or_empty:
            return arg
        return have or ""

    return _VAR.sub(sub, value)


def env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip()
    return out


@cache
def raw() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))  # anchors and `<<` merges resolved


def resolved() -> dict[str, Any]:
    return dict(interpolate(raw(), env_example()))


def services() -> dict[str, dict[str, Any]]:
    return dict(resolved()["services"])


def compose_schema() -> dict[str, Any]:
    path = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return dict(json.loads(path.read_text()))


def test_compose_file_matches_the_compose_specification() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # and as docker compose sees it once .env is read: every value typed (ports, counts, booleans)
    jsonschema.Draft202012Validator(compose_schema()).validate(resolved())


def test_the_checks_can_fail() -> None:
    broken = resolved()
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(compose_schema()).validate(broken)
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(raw(), {})  # no .env: the passwords must be set, there is no default


def test_every_variable_is_in_env_example_and_documented() -> None:
    used = {m.group(1) or m.group(4) for m in _VAR.finditer(COMPOSE.read_text()) if m.group(0) != "$$"}
    defined = env_example()
    assert used == set(defined), {"undocumented": used - set(defined), "unused": set(defined) - used}
    # every paragraph of assignments opens with a comment saying what they are
    for paragraph in ENV_EXAMPLE.read_text().split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if any("=" in line and not line.startswith("#") for line in lines):
            assert lines[0].startswith("#"), paragraph
    known = setting_names()
    dfs = {n for n in defined if n.startswith("DFS_")}
    assert dfs <= known, dfs - known
    for name in OURS:
        env = services()[name].get("environment", {})
        assert set(n for n in env if n.startswith("DFS_")) <= known, name


def test_services_cover_the_architecture() -> None:
    assert set(services()) == {
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "migrate",
        "api",
        *WORKERS,
        "beat",
        "prometheus",
    }
    queues: set[str] = set()
    for name in WORKERS:
        cmd = services()[name]["command"]
        leaf, params = resolve_cli(cmd)
        assert leaf == "worker"
        queues |= set(params["queues"].split(","))
    assert queues == {q.value for q in Queue}, "every queue has a consumer"


def test_every_deepfakestream_command_is_a_real_cli_command() -> None:
    stages = dockerfile_stages()
    for name in OURS:
        svc = services()[name]
        build = svc["build"]
        assert build["context"] == "." and build["dockerfile"] == "deploy/Dockerfile"
        assert build["target"] in stages and build["args"]["DEVICE"] in ("cpu", "cuda")
        leaf, params = resolve_cli(svc["command"])
        expected = {"migrate": "upgrade", "api": "api", "beat": "beat"}.get(name, "worker")
        assert leaf == expected, name
        test = svc.get("healthcheck", {}).get("test")
        if test:
            assert test[0] == "CMD"
            assert resolve_cli(test[1:])[0] == "healthcheck", name


def test_startup_waits_for_health_and_for_the_migrations() -> None:
    svc = services()
    assert svc["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert svc["minio-init"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    for name in OURS:
        if name == "migrate":
            continue
        deps = svc[name]["depends_on"]
        assert deps["migrate"] == {"condition": "service_completed_successfully"}, name
        assert deps["minio-init"] == {"condition": "service_completed_successfully"}, name
        assert deps["redis"] == {"condition": "service_healthy"}, name
    for name, s in svc.items():
        for dep, cond in s.get("depends_on", {}).items():
            if cond["condition"] == "service_healthy":
                check = svc[dep].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{name} waits for {dep}'s health"
    assert svc["minio-init"]["restart"] == "no" and svc["migrate"]["restart"] == "no"
    init = svc["minio-init"]["command"][0]
    assert "mc mb --ignore-existing" in init and "${DFS_S3_BUCKET}" in init


def test_detectors_cpu_by_default_gpu_by_profile() -> None:
    svc = services()
    assert "profiles" not in svc["detector"]
    assert svc["detector"]["environment"]["DFS_DEVICE"] == "cpu"
    gpu = svc["detector-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"]["args"]["DEVICE"] == "cuda" and gpu["environment"]["DFS_DEVICE"] == "cuda"
    [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"] and device["count"] == 1
    for name in ("detector", "detector-gpu"):
        assert "--ready" in svc[name]["healthcheck"]["test"], "healthy only once the models are loaded"
        grace = svc[name]["stop_grace_period"]
        assert re.fullmatch(r"\d+m", grace) and int(grace[:-1]) >= 2, "warm shutdown finishes the segment"


def test_state_lives_in_named_volumes() -> None:
    doc = resolved()
    declared = set(doc["volumes"])
    for name in ("postgres", "redis", "minio", "prometheus"):
        mounts = [v.split(":")[0] for v in doc["services"][name]["volumes"]]
        assert any(m in declared for m in mounts), name
    used = {
        v.split(":")[0]
        for s in doc["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith(".")
    }
    assert used == declared


def test_prometheus_scrapes_the_api_and_every_worker() -> None:
    prom = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    api_port = resolve_cli(services()["api"]["command"])[1]["port"]
    assert jobs["api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    assert jobs["api"]["metrics_path"] == "/metrics"
    [sd] = jobs["workers"]["dns_sd_configs"]
    assert set(sd["names"]) == set(WORKERS)
    assert str(sd["port"]) == dockerfile_env("worker")["DFS_WORKER_METRICS_PORT"]
    mount = next(v for v in services()["prometheus"]["volumes"] if v.startswith("./"))
    assert (REPO_ROOT / mount.split(":")[0]).resolve() == (
        REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
    )
