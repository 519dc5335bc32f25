"""GitHub Actions workflows: valid against the workflow schema check-jsonschema vendors
(SchemaStore's github-workflow), every job time-boxed, and wired to the project's real files:
CI runs the README's test command, images come from deploy/Dockerfile's targets, deployments
use the chart and per-environment values that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_dockerfile import stages
from tests.support.services import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as a boolean
    return dict(doc)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_workflows_match_the_schema(schema: str) -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "images.yml", "deploy.yml"}
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0


def test_ci_lints_tests_with_services_and_checks_the_deployment_files() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    jobs = ci["jobs"]
    assert ".venv/bin/ruff check" in runs(jobs["lint"]) and ".venv/bin/mypy" in runs(jobs["lint"])
    test = jobs["test"]
    assert "scripts/test.sh" in runs(test), "the README's test command"
    assert {"postgres", "redis"} <= set(test["services"])
    assert test["services"]["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert any("5432:5432" in p for p in test["services"]["postgres"]["ports"])
    assert any("6379:6379" in p for p in test["services"]["redis"]["ports"])
    assert ci["env"]["DFS_TORCH_INDEX_URL"].endswith("/whl/cpu")
    deploy_files = runs(jobs["deploy-files"])
    assert "helm lint --strict helm/deepfakestream" in deploy_files and "helm template" in deploy_files
    assert "docker compose config" in deploy_files
    assert any("hadolint" in s.get("uses", "") for s in steps(jobs["deploy-files"]))
    for path in re.findall(r"(helm/values-[\w-]+\.yaml|deploy/environments/\*\.yaml)", deploy_files):
        assert list(REPO_ROOT.glob(path)), path


def test_images_are_built_from_the_dockerfile_targets_and_pushed_on_tags() -> None:
    wf = load("images.yml")
    assert wf["on"]["push"]["tags"] == ["v*"]
    assert wf["permissions"]["packages"] == "write"
    job = wf["jobs"]["build"]
    matrix = {m["image"]: (m["target"], m["device"]) for m in job["strategy"]["matrix"]["include"]}
    assert matrix == {
        "deepfakestream-api": ("api", "cpu"),
        "deepfakestream-worker-cpu": ("worker", "cpu"),
        "deepfakestream-worker-gpu": ("worker", "cuda"),
    }
    assert {t for t, _ in matrix.values()} <= set(stages())
    [build] = [s for s in steps(job) if s.get("uses", "").startswith("docker/build-push-action")]
    w = build["with"]
    assert w["file"] == "deploy/Dockerfile" and w["context"] == "."
    assert w["target"] == "${{ matrix.target }}" and w["build-args"] == "DEVICE=${{ matrix.device }}"
    assert w["cache-from"].startswith("type=gha") and w["cache-to"].startswith("type=gha")
    assert w["sbom"] is True and str(w["provenance"]).startswith("mode=max")
    assert any(s.get("uses", "").startswith("docker/setup-buildx-action") for s in steps(job))
    # the chart's default repositories are the names pushed here
    values = yaml.safe_load((REPO_ROOT / "helm" / "deepfakestream" / "values.yaml").read_text())["images"]
    pushed = {values[k]["repository"].rsplit("/", 1)[1] for k in ("api", "workerCpu", "workerGpu")}
    assert pushed == set(matrix)


def test_deploy_runs_helm_in_protected_environments_with_their_values() -> None:
    wf = load("deploy.yml")
    assert wf["on"]["release"]["types"] == ["published"]
    jobs = wf["jobs"]
    assert jobs["production"]["needs"] == "staging"
    for name in ("staging", "production"):
        assert jobs[name]["uses"] == "./.github/workflows/deploy-environment.yml"
        assert jobs[name]["with"]["environment"] == name
        assert (REPO_ROOT / "deploy" / "environments" / f"{name}.yaml").is_file()
    called = load("deploy-environment.yml")
    [helm] = called["jobs"].values()
    assert helm["environment"]["name"] == "${{ inputs.environment }}", "environment protection rules apply"
    script = runs(helm)
    assert "helm upgrade --install deepfakestream helm/deepfakestream" in script
    assert '-f "deploy/environments/${{ inputs.environment }}.yaml"' in script
    assert "--atomic" in script and "--wait" in script
    assert "helm test deepfakestream" in script
