"""What a client (the web console first) needs to know about this deployment and its model."""

from __future__ import annotations

import re
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request

from services.api.deps import PrincipalDep, SettingsDep
from services.api.problems import problem_responses
from services.api.schemas import ConfigPublic, ModelCardPublic
from shared.media.sniff import SUPPORTED

router = APIRouter(prefix="/v1", tags=["service"])

#: File name extensions people use for each supported type, beyond the canonical one.
EXTENSION_ALIASES = {"jpg": ["jpeg"], "mp4": ["m4v"]}

_JOB = r"/v1/jobs/\{[^}/]+\}"


def served_features(app: FastAPI) -> dict[str, bool]:
    """Which optional endpoints this API serves, read from its own OpenAPI document (so a
    console never shows a button whose endpoint does not exist in this version). The document
    is built once per app and lists every route of every included router."""
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {})

    def has(pattern: str, method: str) -> bool:
        rx = re.compile(pattern + "$")
        return any(rx.match(path) and method in ops for path, ops in paths.items())

    return {"delete_job": has(_JOB, "delete"), "deliveries": has(_JOB + "/deliveries", "get")}


@router.get("/config", response_model=ConfigPublic, summary="Deployment facts a client needs (public)")
def get_config(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Public on purpose: a client must learn whether it needs an API key before it has one."""
    return {
        "auth_required": settings.auth_required,
        "max_upload_bytes": settings.max_upload_bytes,
        "accepted_types": [
            {"kind": t.kind, "mime": t.mime, "extensions": [t.ext, *EXTENSION_ALIASES.get(t.ext, [])]}
            for t in SUPPORTED
        ],
        "poll_after_s": settings.poll_after_s,
        "features": served_features(request.app),
    }


@router.get(
    "/model",
    response_model=ModelCardPublic,
    responses=problem_responses(500, 503),
    summary="The model card of the served checkpoint",
)
async def get_model(settings: SettingsDep, principal: PrincipalDep) -> dict[str, Any]:
    """Read from the configured checkpoint's metadata (its safetensors header); the weights are
    never loaded here. Workers configured with the same DFS_CHECKPOINT serve this model; an
    ensemble's card is the one its results record, with its members listed."""
    from shared.model.card import served_card

    card = await anyio.to_thread.run_sync(lambda: served_card(settings))
    meta = card.meta
    network = meta.network or {}
    return {
        "name": meta.name,
        "version": meta.version,
        "sha256": card.sha256,
        "trained": meta.trained,
        "threshold": meta.threshold,
        "architecture": meta.architecture,
        "backbone": network.get("backbone"),
        "input_size": network.get("input_size"),
        "description": meta.description,
        "warning": meta.warning,
        "training": meta.training,
        "metrics": meta.metrics,
        "code_version": meta.code_version,
        "created_at": meta.created_at,
        "serving": card.serving_policy(),
        "members": [
            {
                "name": m.meta.name,
                "version": m.meta.version,
                "sha256": m.sha256,
                "trained": m.meta.trained,
                "threshold": m.meta.threshold,
                "architecture": m.meta.architecture,
                "backbone": (m.meta.network or {}).get("backbone"),
                "input_size": (m.meta.network or {}).get("input_size"),
                "serving": m.meta.serving_policy(),
            }
            for m in card.members
        ],
    }
