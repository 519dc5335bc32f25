"""Operations endpoints: liveness, readiness, metrics, problem type documentation."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import SettingsDep
from services.api.problems import PROBLEM_DOCS, problem_responses
from shared.broker import ping_broker
from shared.db import ping
from shared.errors import NotFound
from shared.storage import get_store

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Database, broker and storage are reachable",
    responses={503: {"description": "A dependency is unreachable: `checks` says which (`unavailable`)."}},
)
async def readyz(settings: SettingsDep) -> JSONResponse:
    checks: dict[str, str] = {}

    async def check(name: str, fn: Any) -> None:
        try:
            with anyio.fail_after(5):
                await anyio.to_thread.run_sync(fn)
            checks[name] = "ok"
        except Exception as exc:  # what failed is public; where it lives is for the log only
            log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "unavailable"

    await check("database", lambda: ping(settings.resolved_database_url))
    await check("broker", ping_broker)
    await check("storage", lambda: get_store(settings).ping())
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/problems/{slug}", summary="What a problem type means", responses=problem_responses(404, auth=False)
)
def problem_doc(slug: str) -> dict[str, str]:
    if slug not in PROBLEM_DOCS:
        raise NotFound(f"no problem type {slug}")
    return {"type": f"/problems/{slug}", "description": PROBLEM_DOCS[slug]}
