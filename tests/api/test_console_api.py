"""What the web console relies on: the public /v1/config, the model card at /v1/model, and the
console's own files served at / with no external resource."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.api.console import STATIC_DIR
from tests.support.seed import create_tenant_key
from tests.support.services import REPO_ROOT, Stack


@pytest.fixture
def api(keyed_api: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed_api.api_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def key(pg_database_url: str) -> str:
    return create_tenant_key(pg_database_url, "newsroom-config")


def test_config_is_public_and_says_what_a_client_needs(
    api: httpx.Client, service_env: dict[str, str]
) -> None:
    r = api.get("/v1/config")  # no Authorization header: a client must learn that it needs one
    assert r.status_code == 200, r.text
    cfg = r.json()
    assert cfg["auth_required"] is True
    assert cfg["max_upload_bytes"] == 4 * 1024**3
    assert cfg["poll_after_s"] == int(service_env["DFS_POLL_AFTER_S"])
    by_mime = {t["mime"]: t for t in cfg["accepted_types"]}
    assert by_mime["video/mp4"]["kind"] == "video" and "mp4" in by_mime["video/mp4"]["extensions"]
    assert {"jpg", "jpeg"} <= set(by_mime["image/jpeg"]["extensions"])
    assert {t["extensions"][0] for t in cfg["accepted_types"]} == {
        "mp4",
        "mov",
        "webm",
        "mkv",
        "avi",
        "jpg",
        "png",
        "webp",
    }
    # the optional features follow the routes this API really serves
    paths = api.get("/v1/openapi.json").json()["paths"]
    job_path = next(p for p in paths if re.fullmatch(r"/v1/jobs/\{[^}]+\}", p))
    assert cfg["features"]["delete_job"] == ("delete" in paths[job_path])
    assert cfg["features"]["deliveries"] == any(
        re.fullmatch(r"/v1/jobs/\{[^}]+\}/deliveries", p) for p in paths
    )


def test_config_says_when_auth_is_off(client: httpx.Client) -> None:
    assert client.get("/v1/config").json()["auth_required"] is False


def test_config_follows_the_auth_default(tmp_path: Path) -> None:
    """Unset DFS_AUTH_ENABLED means keys are required on Postgres, not on the embedded SQLite."""
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from shared.config import Settings

    for database_url, required in ((None, False), ("postgresql+psycopg2://u@127.0.0.1:1/x", True)):
        app = create_app(Settings(data_dir=tmp_path, database_url=database_url, auth_enabled=None))
        assert TestClient(app).get("/v1/config").json()["auth_required"] is required


def test_model_card_of_the_served_checkpoint(api: httpx.Client, key: str) -> None:
    """With no DFS_CHECKPOINT the bundled checkpoint is served: its card says what it is."""
    from shared.model.card import BUNDLED_CHECKPOINT, read_meta

    meta = read_meta(BUNDLED_CHECKPOINT)
    assert api.get("/v1/model").status_code == 401
    r = api.get("/v1/model", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    card = r.json()
    assert (card["name"], card["version"], card["trained"]) == (meta.name, meta.version, True)
    assert card["threshold"] == meta.threshold and card["warning"] == meta.warning
    assert card["sha256"] == hashlib.sha256(BUNDLED_CHECKPOINT.read_bytes()).hexdigest()
    assert card["architecture"] == "srm-efficientnet-gwap"
    assert (card["backbone"], card["input_size"]) == ("tf_efficientnet_lite0", 224)
    assert card["training"] == meta.training and card["metrics"] == meta.metrics
    assert card["metrics"], "the card records what it measured"


def test_model_card_of_a_configured_checkpoint(client: httpx.Client, untrained_checkpoint: Path) -> None:
    card = client.get("/v1/model").json()
    assert (card["name"], card["version"], card["trained"]) == ("srm-efficientnet-b0", "untrained", False)
    assert card["sha256"] == hashlib.sha256(untrained_checkpoint.read_bytes()).hexdigest()
    assert "carry no information" in card["description"] and card["metrics"] == {}


def test_model_card_carries_training_data_and_metrics_without_torch(
    untrained_checkpoint: Path, tmp_path: Path
) -> None:
    """A trained checkpoint's card reaches the API verbatim, and reading it never imports torch
    (the API process stays small: it reads only the safetensors header)."""
    from shared.model.checkpoint import update_meta

    ckpt = tmp_path / "card.safetensors"
    shutil.copyfile(untrained_checkpoint, ckpt)
    training = {
        "description": "DFDC part 0-9, faces at 1.3x margin",
        "train": {"faces": 120000, "groups": 800},
    }
    metrics = {
        "DFDC public test": {
            "data": {"faces": 4000},
            "face": {"f1": 0.83, "roc_auc": 0.91, "log_loss": 0.36, "n": 4000},
        }
    }
    update_meta(ckpt, trained=True, version="2026.11.27", threshold=0.42, training=training, metrics=metrics)

    script = f"""
import json, sys
from fastapi.testclient import TestClient
from services.api.app import create_app
from shared.config import Settings
app = create_app(Settings(data_dir={str(tmp_path / "data")!r}, checkpoint={str(ckpt)!r}))
r = TestClient(app).get("/v1/model")
print(json.dumps({{"status": r.status_code, "card": r.json(), "torch": "torch" in sys.modules}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    card = result["card"]
    assert card["trained"] is True and card["version"] == "2026.11.27" and card["threshold"] == 0.42
    assert card["training"] == training and card["metrics"] == metrics
    assert card["sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert result["torch"] is False, "the API imported torch to read a model card"


def test_model_card_of_a_missing_checkpoint_is_a_problem(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from shared.config import Settings

    app = create_app(Settings(data_dir=tmp_path, checkpoint=str(tmp_path / "nope.safetensors")))
    r = TestClient(app).get("/v1/model")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/model-error" and "does not exist" in r.json()["detail"]


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shared.model.checkpoint import init_checkpoint, update_meta

    path = tmp_path_factory.mktemp("ckpt2") / "other-b0.safetensors"
    init_checkpoint(path, seed=1)
    update_meta(path, version="other", threshold=0.7)
    return path


def test_model_card_of_an_ensemble_lists_its_members(
    untrained_checkpoint: Path, second_checkpoint: Path, tmp_path: Path
) -> None:
    """DFS_CHECKPOINT names an ensemble (a comma list or a manifest) the way the workers read it:
    the card is the ensemble's, with the identity its results record, and its members."""
    import json

    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from shared.config import Settings

    sha = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (untrained_checkpoint, second_checkpoint)]
    app = create_app(Settings(data_dir=tmp_path, checkpoint=f"{untrained_checkpoint},{second_checkpoint}"))
    r = TestClient(app).get("/v1/model")
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["name"] == "ensemble(srm-efficientnet-b0+srm-efficientnet-b0)"
    assert card["version"] == "untrained+other" and card["trained"] is False
    assert card["threshold"] == pytest.approx((0.5 + 0.7) / 2)
    assert card["sha256"] == hashlib.sha256("".join(sha).encode()).hexdigest()
    assert [(m["version"], m["sha256"], m["threshold"]) for m in card["members"]] == [
        ("untrained", sha[0], 0.5),
        ("other", sha[1], 0.7),
    ]
    assert card["members"][0]["backbone"] == "efficientnet_b0" and card["members"][0]["input_size"] == 224

    manifest = tmp_path / "team.json"
    manifest.write_text(
        json.dumps(
            {
                "name": "team",
                "version": "3",
                "threshold": 0.42,
                "members": [str(untrained_checkpoint), str(second_checkpoint)],
            }
        )
    )
    app = create_app(Settings(data_dir=tmp_path, checkpoint=str(manifest)))
    card = TestClient(app).get("/v1/model").json()
    assert (card["name"], card["version"], card["threshold"]) == ("team", "3", 0.42)
    assert [m["sha256"] for m in card["members"]] == sha

    single = TestClient(create_app(Settings(data_dir=tmp_path, checkpoint=str(second_checkpoint))))
    single_card = single.get("/v1/model").json()
    assert single_card["members"] == []
    assert single_card["serving"]["crop"] == {"geometry": "square", "margin": 0.3, "size": 224}
    assert single_card["serving"]["aggregation"] == "mean"
    assert single_card["serving"]["precision"]["cuda_backbone"] == "fp16"
    assert card["serving"]["crops"] == [single_card["serving"]["crop"]], "the members cut alike"
    assert [m["serving"]["aggregation"] for m in card["members"]] == ["mean", "mean"]


def test_the_ensemble_card_is_the_identity_the_workers_record(
    untrained_checkpoint: Path, second_checkpoint: Path
) -> None:
    from shared.config import Settings
    from shared.model.card import read_card
    from shared.model.classifier import build_classifier

    value = f"{untrained_checkpoint},{second_checkpoint}"
    card = read_card(value, Settings())
    served = build_classifier(Settings(checkpoint=value))
    assert (card.meta.name, card.meta.version, card.sha256) == (
        served.identity.name,
        served.identity.version,
        served.identity.sha256,
    )
    assert card.meta.threshold == served.threshold


# --- the console's files ------------------------------------------------------------------


def _imports(js: str) -> list[str]:
    return re.findall(r"""^\s*import\s[^'"]*['"]([^'"]+)['"]""", js, flags=re.M)


def test_console_page_and_every_module_it_loads_are_served(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    html = r.text
    refs = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html)
    assert "/static/js/main.js" in refs and "/static/console.css" in refs
    todo, seen = list(refs), set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        res = client.get(url)
        assert res.status_code == 200, url
        assert res.headers.get("x-content-type-options") == "nosniff"
        if url.endswith(".js"):
            assert res.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
            base = url.rsplit("/", 1)[0]
            for dep in _imports(res.text):
                assert dep.startswith("./") or dep.startswith("../"), f"{url} imports {dep}"
                parts = (base + "/" + dep).split("/")
                norm: list[str] = []
                for p in parts:
                    if p == "..":
                        norm.pop()
                    elif p != ".":
                        norm.append(p)
                todo.append("/".join(norm))
    assert len([u for u in seen if u.endswith(".js")]) >= 8


def test_console_loads_nothing_from_another_origin() -> None:
    """Air-gapped clusters: no CDN, no web font, no remote script or stylesheet."""
    for path in STATIC_DIR.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", text)
        external += re.findall(r"""url\(\s*["']?(?:https?:)?//""", text)
        external += re.findall(r"""(?:import|from)\s*\(?\s*["'](?:https?:)?//""", text)
        external += re.findall(r"""@import\s""", text)
        assert not external, f"{path.relative_to(STATIC_DIR)} loads {external}"


def test_unknown_paths_still_answer_problems(client: httpx.Client) -> None:
    r = client.get("/v1/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/static/nope.js").status_code == 404
