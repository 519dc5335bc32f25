"""The Helm chart, rendered by Helm's own engine (helm-python-sdk, Helm v4's Go SDK; no helm
binary, no cluster) and validated: every manifest against the Kubernetes schemas of the oldest
and newest versions the chart supports (kubernetes-validate, strict: unknown fields fail) and
custom resources against their vendored CRDs; then what operators rely on is asserted."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.broker.queues import Queue
from shared.config import Settings
from tests.deploy.support import (
    CHART,
    by_kind,
    container,
    env_of,
    render,
    resolve_cli,
    setting_names,
    values_file,
)
from tests.support.services import REPO_ROOT

KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")  # Chart.yaml's kubeVersion floor, the newest schemas
SCHEMAS = Path(__file__).parent / "schemas"
FULL = "dfs-deepfakestream"  # release "dfs"
WORKERS = ("segmenter", "detector", "aggregator", "webhooks", "ingest")

IN_CLUSTER = {
    "postgresql": {"enabled": True, "password": "pg-secret"},
    "redis": {"enabled": True},
    "minio": {"enabled": True, "rootPassword": "minio-secret"},
}
SCENARIOS = {
    "defaults": {},
    "gpu-keda": values_file("helm/values-gpu-keda.yaml"),
    "hpa": values_file("helm/values-hpa.yaml"),
    "staging": values_file("deploy/environments/staging.yaml"),
    "production": values_file("deploy/environments/production.yaml"),
    "in-cluster": IN_CLUSTER,
}


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path in SCHEMAS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            out[(api_version, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return out


def validate(doc: dict[str, Any]) -> None:
    doc = {k: v for k, v in doc.items() if k != "_template"}
    crds = crd_schemas()
    if (doc["apiVersion"], doc["kind"]) in crds:
        jsonschema.Draft7Validator(crds[(doc["apiVersion"], doc["kind"])]).validate(doc)
        return
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)


# --- the chart as a whole ------------------------------------------------------------------------


def test_helm_lint_finds_nothing_but_a_missing_icon() -> None:
    import helm_python as helm

    for values in SCENARIOS.values():
        report = helm.lint(str(CHART), values, strict=True, kube_version="v1.27.0")
        assert not report["errors"], report
        assert all(m["severity"] < 2 for m in report["messages"]), report["messages"]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_rendered_manifest_is_valid(scenario: str) -> None:
    docs = render(SCENARIOS[scenario])
    assert len(docs) >= 15
    for doc in docs:
        try:
            validate(doc)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            raise AssertionError(
                f"{scenario}: {doc['kind']}/{doc['metadata']['name']}: {exc.message}"
            ) from exc
        except kubernetes_validate.SchemaNotFoundError as exc:
            raise AssertionError(f"{scenario}: no schema for {doc['apiVersion']} {doc['kind']}") from exc


def test_the_validators_reject_what_a_cluster_would() -> None:
    """The checks above can fail: a misspelt field and a wrong type are caught."""
    deployment = by_kind(render(), "Deployment")[f"{FULL}-detector"]
    broken = yaml.safe_load(yaml.safe_dump({k: v for k, v in deployment.items() if k != "_template"}))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken)
    scaled = by_kind(render(SCENARIOS["gpu-keda"]), "ScaledObject")[f"{FULL}-detector"]
    scaled["spec"]["minReplicaCount"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        validate(scaled)


def test_values_schema_rejects_bad_values() -> None:
    import helm_python as helm

    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema({})
        for bad in (
            {"detector": {"gpu": {"count": "one"}}},
            {"detector": {"autoscalling": {"enabled": True}}},  # a typo is not silently ignored
            {"detector": {"queues": ["detection"]}},
            {"config": {"logFormat": "xml"}},
        ):
            with pytest.raises(helm.HelmValuesError):
                chart.validate_schema(bad)


def test_every_values_key_is_documented() -> None:
    """Each key of values.yaml that the schema describes carries a `# --` comment."""
    import json

    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = (CHART / "values.yaml").read_text().splitlines()
    stack: list[tuple[int, str]] = []
    undocumented = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)([A-Za-z0-9_.\-/]+):", line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent, key = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [k for _, k in stack] + [key]
        stack.append((indent, key))
        node: dict[str, Any] | None = schema
        for part in path[:-1]:
            node = _resolve(schema, node.get("properties", {}).get(part)) if node else None
        if node is None or key not in node.get("properties", {}):
            continue  # free-form data (a resources block, a node selector): its parent is documented
        j = i - 1
        while j >= 0 and lines[j].strip().startswith("#") and not lines[j].strip().startswith("# -- "):
            j -= 1
        if j < 0 or not lines[j].strip().startswith("# -- "):
            undocumented.append(".".join(path))
    assert not undocumented, undocumented


def _resolve(schema: dict[str, Any], node: dict[str, Any] | None) -> dict[str, Any] | None:
    if node and "$ref" in node:
        return dict(schema["definitions"][node["$ref"].rsplit("/", 1)[1]])
    return node


def test_every_dfs_setting_in_the_manifests_exists() -> None:
    known = setting_names()
    for scenario, values in SCENARIOS.items():
        for doc in render(values):
            names = list(doc.get("data", {}) if doc["kind"] == "ConfigMap" else [])
            for spec in _pod_specs(doc):
                for c in spec.get("containers", []) + spec.get("initContainers", []):
                    names += [e["name"] for e in c.get("env", [])]
            unknown = {n for n in names if n.startswith("DFS_")} - known
            assert not unknown, (scenario, doc["metadata"]["name"], unknown)


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] == "Pod":
        return [doc["spec"]]
    if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
        return [doc["spec"]["template"]["spec"]]
    return []


def test_every_container_command_is_a_real_cli_command() -> None:
    for scenario, values in SCENARIOS.items():
        for doc in render(values):
            for spec in _pod_specs(doc):
                for c in spec["containers"]:
                    if c["image"].split("/")[-1].startswith("deepfakestream-"):
                        argv = [re.sub(r"\$\((\w+)\)", "pod-0", a) for a in c["args"]]
                        name, params = resolve_cli(argv)
                        if name == "worker":
                            assert set(params["queues"].split(",")) <= {q.value for q in Queue}
                    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                        command = c.get(probe, {}).get("exec", {}).get("command")
                        if command and command[0] == "deepfakestream":
                            assert resolve_cli(command)[0] == "healthcheck", (scenario, command)


def test_deployments_select_their_own_pods() -> None:
    for doc in render(SCENARIOS["in-cluster"]) + render(SCENARIOS["gpu-keda"]):
        if doc["kind"] in ("Deployment", "StatefulSet"):
            selector = doc["spec"]["selector"]["matchLabels"]
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), doc["metadata"]["name"]


# --- defaults -------------------------------------------------------------------------------------


def test_defaults_run_every_component_on_cpu_without_autoscalers() -> None:
    docs = render()
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {f"{FULL}-{n}" for n in ("api", "beat", *WORKERS)}
    assert not [d for d in docs if d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler", "StatefulSet")]
    detector = container(deployments[f"{FULL}-detector"])
    assert "deepfakestream-worker-cpu:" in detector["image"]
    assert env_of(detector)["DFS_DEVICE"] == "cpu"
    assert "nvidia.com/gpu" not in str(detector["resources"])
    assert deployments[f"{FULL}-detector"]["spec"]["replicas"] == 1
    queues = {n: resolve_cli(container(deployments[f"{FULL}-{n}"])["args"])[1]["queues"] for n in WORKERS}
    assert sorted(",".join(queues.values()).split(",")) == sorted(q.value for q in Queue), (
        "every queue consumed"
    )


def test_pods_run_unprivileged_on_a_read_only_root() -> None:
    for name, d in by_kind(render(), "Deployment").items():
        spec = d["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        c = spec["containers"][0]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], name
        assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/tmp", "/var/lib/deepfakestream"}, name


# --- probes and shutdown --------------------------------------------------------------------------


def test_api_probes_use_healthz_and_readyz() -> None:
    api = container(by_kind(render(), "Deployment")[f"{FULL}-api"])
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_worker_probes_read_the_heartbeat_and_ready_files_not_celery_inspect() -> None:
    for name in WORKERS:
        c = container(by_kind(render(), "Deployment")[f"{FULL}-{name}"])
        live = c["livenessProbe"]["exec"]["command"]
        ready = c["readinessProbe"]["exec"]["command"]
        assert live == ["deepfakestream", "healthcheck", "worker", "--max-age", "60"]
        assert ready == [*live, "--ready"]
        assert c["startupProbe"]["exec"]["command"] == ready
        assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 300
        assert "inspect" not in str(c) and "celery" not in str(c["livenessProbe"])
        env = env_of(c)
        assert env["DFS_WORKER_HEARTBEAT_FILE"].startswith("/tmp/") and env[
            "DFS_WORKER_READY_FILE"
        ].startswith("/tmp/")
        # the heartbeat is touched every 5 s: the allowed age leaves room for a busy main process
        assert int(live[-1]) >= 30


def test_grace_periods_outlast_the_work_in_hand() -> None:
    deployments = by_kind(render(), "Deployment")

    def grace(n: str) -> int:
        return int(deployments[f"{FULL}-{n}"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])

    assert grace("segmenter") > Settings().ffmpeg_timeout_s, (
        "a split (ffmpeg, bounded by its timeout) completes"
    )
    assert grace("detector") >= 120, "a segment's scoring completes (seconds on a GPU, tens on a CPU)"
    assert grace("detector") < Settings().detect_visibility_timeout_s


# --- GPU and KEDA ---------------------------------------------------------------------------------


def test_gpu_detectors_request_gpus_on_gpu_nodes() -> None:
    d = by_kind(render(SCENARIOS["gpu-keda"]), "Deployment")[f"{FULL}-detector"]
    spec = d["spec"]["template"]["spec"]
    c = container(d)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["cpu"] == "4", "the values' own requests are kept"
    assert spec["runtimeClassName"] == "nvidia"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert "deepfakestream-worker-gpu:" in c["image"]
    env = env_of(c)
    assert env["DFS_DEVICE"] == "cuda"
    assert "DFS_TORCH_THREADS" not in env and env["DFS_SCORE_BATCH_SIZE"] == "256"
    assert resolve_cli(c["args"])[1]["concurrency"] == 1
    assert "replicas" not in d["spec"], "the autoscaler owns the replica count"
    assert d["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    # the other workers stay on CPU images, off the GPU nodes
    seg = by_kind(render(SCENARIOS["gpu-keda"]), "Deployment")[f"{FULL}-segmenter"]
    assert "worker-cpu" in container(seg)["image"] and "nodeSelector" not in seg["spec"]["template"]["spec"]


def test_keda_scales_detectors_on_the_detect_list_in_redis() -> None:
    values = SCENARIOS["gpu-keda"]
    docs = render(values)
    scaled = by_kind(docs, "ScaledObject")[f"{FULL}-detector"]
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{FULL}-detector",
    }
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 8)
    assert spec["pollingInterval"] == 15
    detector = by_kind(docs, "Deployment")[f"{FULL}-detector"]
    grace = detector["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert spec["cooldownPeriod"] == 600 and spec["cooldownPeriod"] > grace, "cooldown longer than a task"
    down = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]
    [trigger] = spec["triggers"]
    assert trigger["type"] == "redis"
    consumed = resolve_cli(container(detector)["args"])[1]["queues"]
    assert trigger["metadata"] == {
        "address": "redis-master.data.svc.cluster.local:6379",
        "listName": consumed,  # the list the pods consume: Celery's Redis list named like the queue
        "listLength": "4",
        "activationListLength": "0",
        "databaseIndex": "0",
        "enableTLS": "false",
    }
    assert consumed == Queue.detect.value
    # KEDA reads the broker password from the same Secret the pods use
    auth = by_kind(docs, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "password", "name": "dfs-redis", "key": "redis-password"}
    ]
    assert env_of(container(detector))["REDIS_PASSWORD"] == {
        "secretKeyRef": {"name": "dfs-redis", "key": "redis-password"}
    }
    assert f"{FULL}-detector" not in by_kind(docs, "HorizontalPodAutoscaler"), "KEDA makes its own HPA"


def test_without_keda_the_detectors_fall_back_to_an_hpa_on_cpu() -> None:
    docs = render(SCENARIOS["hpa"])
    assert not [d for d in docs if d["apiVersion"].startswith("keda.sh/")]
    hpa = by_kind(docs, "HorizontalPodAutoscaler")[f"{FULL}-detector"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{FULL}-detector"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}},
        }
    ]
    detector = by_kind(docs, "Deployment")[f"{FULL}-detector"]
    assert "replicas" not in detector["spec"]
    assert container(detector)["resources"]["requests"]["cpu"], "utilisation needs a CPU request"


def test_keda_without_a_password_needs_no_trigger_authentication() -> None:
    docs = render({"detector": {"autoscaling": {"enabled": True, "minReplicas": 0}}})
    [trigger] = by_kind(docs, "ScaledObject")[f"{FULL}-detector"]["spec"]["triggers"]
    assert "authenticationRef" not in trigger and not by_kind(docs, "TriggerAuthentication")
    assert by_kind(docs, "ScaledObject")[f"{FULL}-detector"]["spec"]["minReplicaCount"] == 0


# --- migrations, secrets, disruption budgets, test, ingress, monitors -----------------------------


def test_migrations_run_as_a_pre_install_pre_upgrade_hook() -> None:
    docs = render()
    job = by_kind(docs, "Job")[f"{FULL}-migrations"]
    ann = job["metadata"]["annotations"]
    assert ann["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert ann["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    c = container(job)
    assert resolve_cli(c["args"]) == ("upgrade", {"revision": "head"})
    assert "deepfakestream-api:" in c["image"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # before install the release's own Secret does not exist yet: the hook brings a copy, earlier
    secret = by_kind(docs, "Secret")[f"{FULL}-migrations"]
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(ann["helm.sh/hook-weight"])
    assert env_of(c)["DFS_DATABASE_URL"] == {
        "secretKeyRef": {"name": f"{FULL}-migrations", "key": "database-url"}
    }
    assert (
        secret["stringData"]["database-url"]
        == values_file("helm/deepfakestream/values.yaml")["database"]["url"]
    )
    # with an existing Secret, the job reads it and the chart stores no copy
    docs = render(SCENARIOS["gpu-keda"])
    assert f"{FULL}-migrations" not in by_kind(docs, "Secret")
    env = env_of(container(by_kind(docs, "Job")[f"{FULL}-migrations"]))
    assert env["DFS_DATABASE_URL"] == {"secretKeyRef": {"name": "dfs-database", "key": "database-url"}}
    # an in-cluster Postgres only exists after install: migrate then, waiting for it
    job = by_kind(render(IN_CLUSTER), "Job")[f"{FULL}-migrations"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["initContainers"][0]["name"] == "wait-for-postgres"


def test_secrets_hold_the_credentials_and_existing_secrets_are_used_as_they_are() -> None:
    docs = render(SCENARIOS["hpa"])
    secrets = by_kind(docs, "Secret")
    assert secrets[f"{FULL}-database"]["stringData"]["database-url"].startswith(
        "postgresql+psycopg2://dfs:change-me@"
    )
    assert secrets[f"{FULL}-broker"]["stringData"] == {"redis-password": "change-me-redis"}
    assert secrets[f"{FULL}-storage"]["stringData"] == {"access-key": "dfs", "secret-key": "change-me-s3"}
    api = container(by_kind(docs, "Deployment")[f"{FULL}-api"])
    names = [e["name"] for e in api["env"]]
    assert names.index("REDIS_PASSWORD") < names.index("DFS_BROKER_URL"), (
        "$(REDIS_PASSWORD) must be defined first"
    )
    env = env_of(api)
    assert env["DFS_BROKER_URL"] == "redis://:$(REDIS_PASSWORD)@redis.example.internal:6379/0"
    assert env["DFS_S3_SECRET_KEY"] == {"secretKeyRef": {"name": f"{FULL}-storage", "key": "secret-key"}}
    assert "change-me" not in str(api), "no credential in a pod spec"

    docs = render(SCENARIOS["gpu-keda"])
    assert not by_kind(docs, "Secret"), "every credential comes from an existing Secret"
    env = env_of(container(by_kind(docs, "Deployment")[f"{FULL}-detector"]))
    assert env["DFS_DATABASE_URL"] == {"secretKeyRef": {"name": "dfs-database", "key": "database-url"}}
    assert env["DFS_S3_ACCESS_KEY"] == {"secretKeyRef": {"name": "dfs-s3", "key": "access-key"}}

    docs = render({"webhookSecrets": {"env": {"DFS_LOG_LEVEL": "DEBUG"}}})
    assert by_kind(docs, "Secret")[f"{FULL}-webhooks"]["stringData"] == {"DFS_LOG_LEVEL": "DEBUG"}
    webhooks = container(by_kind(docs, "Deployment")[f"{FULL}-webhooks"])
    assert {"secretRef": {"name": f"{FULL}-webhooks"}} in webhooks["envFrom"]
    docs = render({"webhookSecrets": {"existingSecret": "dfs-webhooks"}})
    assert {"secretRef": {"name": "dfs-webhooks"}} in container(by_kind(docs, "Deployment")[f"{FULL}-api"])[
        "envFrom"
    ]


def test_in_cluster_services_are_wired_in() -> None:
    docs = render(IN_CLUSTER)
    assert set(by_kind(docs, "StatefulSet")) == {f"{FULL}-{n}" for n in ("postgresql", "redis", "minio")}
    cm = by_kind(docs, "ConfigMap")[f"{FULL}-config"]["data"]
    assert cm["DFS_S3_ENDPOINT"] == f"{FULL}-minio:9000" and cm["DFS_S3_SECURE"] == "false"
    env = env_of(container(by_kind(docs, "Deployment")[f"{FULL}-api"]))
    assert env["DFS_BROKER_URL"] == f"redis://{FULL}-redis:6379/0"
    url = by_kind(docs, "Secret")[f"{FULL}-database"]["stringData"]["database-url"]
    assert url == f"postgresql+psycopg2://dfs:pg-secret@{FULL}-postgresql:5432/deepfakestream"
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match="postgresql.password is required"):
        render({"postgresql": {"enabled": True}}, release="nopw")


def test_every_component_has_a_disruption_budget_matching_its_pods() -> None:
    docs = render()
    pdbs = by_kind(docs, "PodDisruptionBudget")
    for name in ("api", *WORKERS):
        pdb = pdbs[f"{FULL}-{name}"]
        labels = by_kind(docs, "Deployment")[f"{FULL}-{name}"]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdbs[f"{FULL}-api"]["spec"]["minAvailable"] == 1
    assert pdbs[f"{FULL}-detector"]["spec"]["maxUnavailable"] == 1
    assert f"{FULL}-beat" not in pdbs, "one beat; a budget would block node drains"


def test_helm_test_asks_readyz_of_the_api_service() -> None:
    docs = render()
    pod = by_kind(docs, "Pod")[f"{FULL}-test-readyz"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    args = pod["spec"]["containers"][0]["args"]
    name, params = resolve_cli(args)
    assert name == "healthcheck" and params["component"] == "api"
    service = by_kind(docs, "Service")[f"{FULL}-api"]
    assert params["url"] == f"http://{FULL}-api:{service['spec']['ports'][0]['port']}/readyz"


def test_optional_ingress_and_service_monitors_point_at_what_exists() -> None:
    docs = render(SCENARIOS["gpu-keda"])
    services = by_kind(docs, "Service")
    ingress = by_kind(docs, "Ingress")[f"{FULL}-api"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] in services and backend["port"]["name"] == "http"
    monitors = by_kind(docs, "ServiceMonitor")
    assert len(monitors) == 2
    for monitor in monitors.values():
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        selector = monitor["spec"]["selector"]["matchLabels"]
        [svc] = [s for s in services.values() if selector.items() <= s["metadata"]["labels"].items()]
        assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in svc["spec"]["ports"]}
    workers = services[f"{FULL}-worker-metrics"]
    assert workers["spec"]["ports"][0]["port"] == 9464
    for name in WORKERS:
        pod = by_kind(docs, "Deployment")[f"{FULL}-{name}"]["spec"]["template"]
        assert workers["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert env_of(pod["spec"]["containers"][0])["DFS_WORKER_METRICS_PORT"] == "9464"
    assert not by_kind(render(), "Ingress") and not by_kind(render(), "ServiceMonitor")


def test_environment_values_files_exist_for_the_deploy_workflow() -> None:
    workflow = (REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    for env in ("staging", "production"):
        assert env in workflow
        assert (REPO_ROOT / "deploy" / "environments" / f"{env}.yaml").is_file()
