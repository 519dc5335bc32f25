"""The FastAPI application: `uvicorn services.api.app:create_app --factory`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from services.api import console, problems
from services.api.metrics import HTTP_DURATION, HTTP_REQUESTS
from services.api.routes import deliveries, evidence, info, jobs, ops, streams, uploads
from shared.access.ratelimit import RateLimiter
from shared.config import Settings, get_settings
from shared.logging import configure_logging

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    app = FastAPI(
        title="DeepfakeStream",
        version="1",
        description="Tells whether the faces in a video or image were swapped or synthesised.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings)
    _log_auth_mode(settings)
    problems.install(app)
    app.include_router(jobs.router)
    app.include_router(uploads.router)
    app.include_router(streams.router)
    app.include_router(deliveries.router)
    app.include_router(evidence.router)
    app.include_router(info.router)
    app.include_router(ops.router)
    console.install(app)
    _publish_limits(app, settings)

    @app.middleware("http")
    async def _metrics(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        HTTP_DURATION.labels(request.method, path).observe(time.perf_counter() - start)
        return response

    return app


def _publish_limits(app: FastAPI, settings: Settings) -> None:
    """OpenAPI states this deployment's upload limit as the schema maximum of `size_bytes`
    (a larger value is answered 413, as a larger upload is)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            size = spec["components"]["schemas"]["UploadCreate"]["properties"]["size_bytes"]
            for schema in size.get("anyOf", [size]):
                if schema.get("type") == "integer":
                    schema["maximum"] = settings.max_upload_bytes
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def _log_auth_mode(settings: Settings) -> None:
    """Auth is never off without a trace: say so at start, loudly on a production database."""
    if settings.auth_required:
        log.info("API keys required (Authorization: Bearer dfs_...)")
    elif settings.resolved_database_url.startswith("postgresql"):
        log.warning(
            "AUTH IS OFF on a Postgres deployment (DFS_AUTH_ENABLED=false): every caller is tenant 'local'"
        )
    else:
        log.info(
            "auth is off (embedded defaults): every caller is tenant 'local'; set DFS_AUTH_ENABLED=true to require keys"
        )
