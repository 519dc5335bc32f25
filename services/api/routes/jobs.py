"""/v1/jobs: submit media, read a job, list jobs."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.api.deps import PrincipalDep, SettingsDep, StoreDep
from services.api.metrics import JOBS_CREATED, UPLOAD_BYTES
from services.api.presenters import job_public
from services.api.problems import PROBLEM_JSON
from services.api.schemas import JobList, JobPublic, ProblemPublic
from services.api.upload import StreamingUpload
from shared.auth import Principal
from shared.broker import enqueue
from shared.config import Settings
from shared.db import Job, JobStatus, repo, session_scope
from shared.errors import BrokerUnavailable, InvalidRequest, MediaTooLarge, UnsupportedMedia
from shared.ids import new_ulid
from shared.keys import source_key
from shared.media.sniff import MediaType
from shared.queues import TaskName

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["jobs"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemPublic, "content": {PROBLEM_JSON: {}}} for code in (401, 404, 413, 415, 422, 429, 503)
}

MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "Video or image."},
                        "callback_url": {"type": "string", "format": "uri"},
                        "metadata": {"type": "string", "description": "A JSON object, at most 4 KB."},
                    },
                }
            }
        },
    }
}


def validate_callback_url(url: str | None) -> str | None:
    if url is None or url.strip() == "":
        return None
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 2048 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            "callback_url must be an absolute http(s) URL",
            [{"field": "callback_url", "message": "must be an absolute http(s) URL"}],
        )
    return url


def validate_metadata(raw: str | None, settings: Settings) -> dict[str, Any]:
    if raw is None or raw.strip() == "":
        return {}
    if len(raw.encode("utf-8")) > settings.max_metadata_bytes:
        raise InvalidRequest(
            f"metadata exceeds {settings.max_metadata_bytes} bytes",
            [{"field": "metadata", "message": f"at most {settings.max_metadata_bytes} bytes"}],
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest("metadata is not valid JSON", [{"field": "metadata", "message": str(exc)}]) from exc
    if not isinstance(value, dict):
        raise InvalidRequest("metadata must be a JSON object", [{"field": "metadata", "message": "must be an object"}])
    return value


def insert_job(
    *,
    job_id: str,
    principal: Principal,
    media_type: MediaType,
    filename: str | None,
    size: int,
    key: str,
    callback_url: str | None,
    metadata: dict[str, Any],
    idempotency_key: str | None = None,
) -> Job:
    """Commit the job row (and, for an image, its single segment)."""
    with session_scope() as s:
        job = Job(
            id=job_id,
            tenant_id=principal.tenant_id,
            status=JobStatus.queued.value,
            media_kind=media_type.kind,
            filename=filename,
            content_type=media_type.mime,
            size_bytes=size,
            source_key=key,
            callback_url=callback_url,
            meta=metadata,
            idempotency_key=idempotency_key,
        )
        s.add(job)
        s.flush()
        if media_type.kind == "image":
            repo.insert_segments(s, job_id, [{"index": 0, "start_s": 0.0, "end_s": 0.0, "object_key": key}])
        s.refresh(job)
        return job


def start_job(job: Job) -> None:
    """Queue the first task. A broker outage does not lose the job: it stays `queued` in the
    database and the reconciler queues it once the broker is back."""
    try:
        if job.media_kind == "image":
            enqueue(TaskName.detect, job.id, 0)
        else:
            enqueue(TaskName.segment, job.id)
    except BrokerUnavailable as exc:
        log.warning("job stored but not queued (reconciler will retry): %s", exc, extra={"job_id": job.id})


def job_response(job: Job, settings: Settings, status_code: int = 200) -> JSONResponse:
    headers = {}
    if not JobStatus(job.status).is_terminal:
        headers["Retry-After"] = str(settings.poll_after_s)
    if status_code == 202:
        headers["Location"] = f"/v1/jobs/{job.id}"
    return JSONResponse(job_public(job), status_code=status_code, headers=headers)


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobPublic,
    responses=PROBLEMS,
    openapi_extra=MULTIPART_BODY,
    summary="Submit a video or image for analysis",
)
async def create_job(request: Request, settings: SettingsDep, principal: PrincipalDep, store: StoreDep) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
        raise MediaTooLarge(f"the upload exceeds the limit of {settings.max_upload_bytes} bytes")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMedia("POST /v1/jobs takes multipart/form-data with a `file` part")
    job_id = new_ulid()
    upload = StreamingUpload(content_type, store, lambda mt: source_key(job_id, mt.ext), settings.max_upload_bytes)
    parsed = await upload.run(request.stream())
    assert parsed.media_type is not None and parsed.stored_key is not None
    try:
        callback_url = validate_callback_url(parsed.fields.get("callback_url"))
        metadata = validate_metadata(parsed.fields.get("metadata"), settings)
        job = await anyio.to_thread.run_sync(
            lambda: insert_job(
                job_id=job_id,
                principal=principal,
                media_type=parsed.media_type,  # type: ignore[arg-type]
                filename=parsed.filename,
                size=parsed.size,
                key=parsed.stored_key,  # type: ignore[arg-type]
                callback_url=callback_url,
                metadata=metadata,
            )
        )
    except BaseException:
        await anyio.to_thread.run_sync(store.delete, parsed.stored_key)
        raise
    UPLOAD_BYTES.inc(parsed.size)
    JOBS_CREATED.labels(kind=job.media_kind).inc()
    await anyio.to_thread.run_sync(start_job, job)
    log.info("job created", extra={"job_id": job.id, "tenant_id": principal.tenant_id})
    return job_response(job, settings, status_code=202)


@router.get("/jobs/{job_id}", response_model=JobPublic, responses=PROBLEMS, summary="Get a job")
def get_job(job_id: str, settings: SettingsDep, principal: PrincipalDep) -> JSONResponse:
    with session_scope(settings.resolved_database_url) as s:
        job = repo.get_job(s, job_id, principal.tenant_id)
        return job_response(job, settings)


@router.get("/jobs", response_model=JobList, responses=PROBLEMS, summary="List jobs, newest first")
def list_jobs(
    settings: SettingsDep,
    principal: PrincipalDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=26, description="`next_cursor` of the previous page.")] = None,
) -> dict[str, Any]:
    with session_scope(settings.resolved_database_url) as s:
        jobs, next_cursor = repo.list_jobs(
            s, principal.tenant_id, status=status.value if status else None, limit=limit, cursor=cursor
        )
        return {"items": [job_public(j) for j in jobs], "next_cursor": next_cursor}
