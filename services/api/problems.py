"""Every error the API returns is an RFC 9457 problem (`application/problem+json`)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import PROBLEM_BASE, DFSError, MalformedRequest

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

#: Human documentation of each problem type, served at /problems/{slug}.
PROBLEM_DOCS: dict[str, str] = {
    "invalid-request": "A field of the request is missing or invalid; `errors[]` names each field.",
    "malformed-request": "The request body could not be parsed (a broken multipart form, a body that is not JSON).",
    "unsupported-media": "The upload is not a supported video (mp4, mov, webm, mkv, avi) or image (jpeg, png, webp), judged by its content.",
    "corrupt-media": "The media could not be probed or decoded.",
    "media-too-large": "The upload, its duration or its frame size exceeds a configured limit.",
    "not-found": "No such resource for this API key.",
    "conflict": "The request conflicts with the resource's state (an Idempotency-Key still in flight, an upload already used, a job not finished).",
    "storage-unavailable": "Object storage could not be reached; retry later.",
    "broker-unavailable": "The message broker could not be reached; retry later.",
    "model-error": "The configured model checkpoint is missing, corrupt or incompatible with this code.",
    "tool-failed": "ffmpeg/ffprobe failed for a reason unrelated to the media.",
    "unauthorized": "Missing, unknown or revoked API key.",
    "forbidden": "The API key may not do this.",
    "rate-limited": "Too many requests for this API key, or too many unfinished jobs for this tenant; wait for `Retry-After` seconds.",
    "cancelled": "The job was cancelled.",
    "feature-unavailable": "This deployment lacks what the request needs (e.g. presigned uploads need S3).",
    "internal": "An unexpected error; it has been logged.",
    "http-error": "A generic HTTP error.",
}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DFSError)
    async def _dfs(request: Request, exc: DFSError) -> JSONResponse:
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return problem_response(exc.to_problem(instance=request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            # Not a field's fault: the body is not JSON this server can parse at all.
            message = next(err.get("msg", "") for err in exc.errors() if err.get("type") == "json_invalid")
            return problem_response(
                MalformedRequest(f"the request body is not valid JSON: {message}"[:300]).to_problem(
                    instance=request.url.path
                )
            )
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "header")]
            errors.append(
                {
                    "field": ".".join(loc) or None,
                    "message": err.get("msg", "invalid"),
                    "in": (err.get("loc") or ["?"])[0],
                }
            )
        body = {
            "type": PROBLEM_BASE + "invalid-request",
            "title": "Invalid request",
            "status": 422,
            "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors)[:500] or "invalid request",
            "instance": request.url.path,
            "errors": errors,
        }
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 401: "unauthorized", 403: "forbidden"}.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        body = {
            "type": PROBLEM_BASE + slug,
            "title": _title(exc.status_code),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(body, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        body = {
            "type": PROBLEM_BASE + "internal",
            "title": "Internal error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged",
            "instance": request.url.path,
        }
        # The server closes this connection once the answer is sent (the exception goes on to
        # the server); saying so lets a keep-alive client open a fresh one instead of a reset.
        return problem_response(body, {"Connection": "close"})


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (one route per method in FastAPI, so the
    route that answered 405 alone would list only its own)."""
    from starlette.routing import Match

    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_responses(*codes: int, auth: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries saying these statuses answer with a problem document; a
    route behind an API key also answers 401 (no or bad key) and 429 (rate limited)."""
    from services.api.schemas import ProblemPublic

    statuses = sorted({*codes, *((401, 429) if auth else ())})
    return {code: {"model": ProblemPublic, "content": {PROBLEM_JSON: {}}} for code in statuses}
