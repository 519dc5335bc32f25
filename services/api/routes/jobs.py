"""/v1/jobs: submit media (streamed multipart, or a presigned upload), read, list, cancel/delete."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from services.api.deps import PrincipalDep, SettingsDep, StoreDep
from services.api.metrics import JOBS_CREATED, UPLOAD_BYTES
from services.api.presenters import job_public
from services.api.problems import PROBLEM_JSON
from services.api.schemas import JobFromUpload, JobList, JobPublic, ProblemPublic
from services.api.upload import StreamingUpload
from shared import idempotency
from shared.auth import Principal
from shared.broker import enqueue, revoke_job_tasks
from shared.config import Settings, get_settings
from shared.db import Job, JobStatus, Upload, repo, session_scope
from shared.db.models import utcnow
from shared.errors import (
    BrokerUnavailable,
    Conflict,
    InvalidRequest,
    MediaTooLarge,
    NotFound,
    UnsupportedMedia,
)
from shared.events import job_finished
from shared.ids import new_ulid
from shared.keys import source_key
from shared.lifecycle import UPLOAD_GRACE, delete_media, mark_media_deleted
from shared.media.sniff import SNIFF_BYTES, MediaType, sniff
from shared.queues import TaskName
from shared.ratelimit import check_running_jobs
from shared.storage import ObjectStore
from shared.webhooks.netguard import validate_callback_url

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["jobs"])

MAX_JSON_BODY = 16 * 1024


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give."""
    return {code: {"model": ProblemPublic, "content": {PROBLEM_JSON: {}}} for code in (401, 429, *codes)}


SUBMIT_BODY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retry-safe submission: the same key and payload within 24 h returns the original job;"
            " the same key with another payload answers 422, while the first request is still running 409.",
        }
    ],
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
            },
            "application/json": {"schema": JobFromUpload.model_json_schema()},
        },
    },
}


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
    fingerprint: str | None = None,
    upload_id: str | None = None,
    settings: Settings | None = None,
) -> Job:
    """Commit the job row (and, for an image, its single segment), in one transaction with the
    tenant's running-jobs check, the idempotency key's binding and the upload's consumption."""
    settings = settings or get_settings()
    with session_scope() as s:
        check_running_jobs(s, principal.tenant_id, settings, lock=True)
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
        try:
            s.flush()
        except IntegrityError as exc:  # a concurrent request made a job from the same upload
            raise Conflict(f"upload {upload_id or job_id} was already used by another request") from exc
        if upload_id is not None:
            res = s.execute(update(Upload).where(Upload.id == upload_id, Upload.job_id.is_(None)).values(job_id=job_id))
            if not res.rowcount:  # type: ignore[attr-defined]
                raise Conflict(f"upload {upload_id} was already used")
        if idempotency_key is not None and fingerprint is not None:
            idempotency.complete_key(s, principal.tenant_id, idempotency_key, fingerprint, job_id)
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


def job_response(job: Job, settings: Settings, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if not JobStatus(job.status).is_terminal:
        headers["Retry-After"] = str(settings.poll_after_s)
    if status_code == 202:
        headers["Location"] = f"/v1/jobs/{job.id}"
    return JSONResponse(job_public(job), status_code=status_code, headers=headers)


# --- submission ---------------------------------------------------------------------------


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobPublic,
    responses=problems(409, 413, 415, 422, 501, 503),
    openapi_extra=SUBMIT_BODY,
    summary="Submit a video or image (multipart upload, or JSON naming a presigned upload)",
)
async def create_job(request: Request, settings: SettingsDep, principal: PrincipalDep, store: StoreDep) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    is_json = content_type.lower().startswith("application/json")
    if not is_json:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
            raise MediaTooLarge(f"the upload exceeds the limit of {settings.max_upload_bytes} bytes")
        if not content_type.lower().startswith("multipart/form-data"):
            raise UnsupportedMedia(
                "POST /v1/jobs takes multipart/form-data with a `file` part, or application/json with an `upload_id`"
            )
    key = idempotency.validate_key(request.headers.get(idempotency.HEADER))
    if key is not None:
        claim = await anyio.to_thread.run_sync(idempotency.claim_key, principal.tenant_id, key, settings)
        if claim.state == "in_flight":
            raise Conflict(f"a request with {idempotency.HEADER} {key!r} is still being processed; retry later")
        if claim.state == "done":
            return await _replay(request, settings, principal, store, claim, is_json)
    try:
        await anyio.to_thread.run_sync(_check_running_jobs, principal, settings)  # fail before reading the body
        if is_json:
            job = await _create_from_upload(request, settings, principal, store, key)
        else:
            job = await _create_from_multipart(request, settings, principal, store, key)
    except BaseException:
        if key is not None:
            await anyio.to_thread.run_sync(idempotency.release_key, principal.tenant_id, key)
        raise
    JOBS_CREATED.labels(kind=job.media_kind).inc()
    await anyio.to_thread.run_sync(start_job, job)
    log.info("job created", extra={"job_id": job.id, "tenant_id": principal.tenant_id})
    return job_response(job, settings, status_code=202)


def _check_running_jobs(principal: Principal, settings: Settings) -> None:
    with session_scope() as s:
        check_running_jobs(s, principal.tenant_id, settings)


def _multipart_fingerprint(sha256: str, filename: str | None, callback_url: str | None, metadata: dict[str, Any]) -> str:
    return idempotency.fingerprint("multipart", file=sha256, filename=filename, callback_url=callback_url, metadata=metadata)


async def _create_from_multipart(
    request: Request, settings: Settings, principal: Principal, store: ObjectStore, key: str | None
) -> Job:
    job_id = new_ulid()
    upload = StreamingUpload(
        request.headers["content-type"], store, lambda mt: source_key(job_id, mt.ext), settings.max_upload_bytes
    )
    parsed = await upload.run(request.stream())
    assert parsed.media_type is not None and parsed.stored_key is not None
    try:
        callback_url = validate_callback_url(parsed.fields.get("callback_url"), settings.webhook_allowed_networks)
        metadata = validate_metadata(parsed.fields.get("metadata"), settings)
        digest = _multipart_fingerprint(parsed.sha256, parsed.filename, callback_url, metadata)
        job = await anyio.to_thread.run_sync(
            lambda: insert_job(
                job_id=job_id,
                principal=principal,
                settings=settings,
                media_type=parsed.media_type,  # type: ignore[arg-type]
                filename=parsed.filename,
                size=parsed.size,
                key=parsed.stored_key,  # type: ignore[arg-type]
                callback_url=callback_url,
                metadata=metadata,
                idempotency_key=key,
                fingerprint=digest,
            )
        )
    except BaseException:
        await anyio.to_thread.run_sync(store.delete, parsed.stored_key)
        raise
    UPLOAD_BYTES.inc(parsed.size)
    return job


async def _read_json(request: Request) -> JobFromUpload:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise MediaTooLarge(f"a JSON request body is at most {MAX_JSON_BODY} bytes")
    try:
        return JobFromUpload.model_validate_json(bytes(body))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err.get("loc", ()))} for err in exc.errors(include_url=False)]
        ) from exc


def _json_fingerprint(req: JobFromUpload, callback_url: str | None) -> str:
    return idempotency.fingerprint("upload", upload_id=req.upload_id, callback_url=callback_url, metadata=req.metadata)


def _check_json_fields(req: JobFromUpload, settings: Settings) -> str | None:
    callback_url = validate_callback_url(req.callback_url, settings.webhook_allowed_networks)
    if len(json.dumps(req.metadata).encode("utf-8")) > settings.max_metadata_bytes:
        raise InvalidRequest(
            f"metadata exceeds {settings.max_metadata_bytes} bytes",
            [{"field": "metadata", "message": f"at most {settings.max_metadata_bytes} bytes"}],
        )
    return callback_url


async def _create_from_upload(
    request: Request, settings: Settings, principal: Principal, store: ObjectStore, key: str | None
) -> Job:
    req = await _read_json(request)
    callback_url = _check_json_fields(req, settings)
    digest = _json_fingerprint(req, callback_url)
    return await anyio.to_thread.run_sync(
        lambda: _job_from_upload(req, callback_url, digest, settings, principal, store, key)
    )


def _upload_field_error(message: str) -> InvalidRequest:
    return InvalidRequest(f"upload_id: {message}", [{"field": "upload_id", "message": message, "in": "body"}])


def _job_from_upload(
    req: JobFromUpload,
    callback_url: str | None,
    digest: str,
    settings: Settings,
    principal: Principal,
    store: ObjectStore,
    key: str | None,
) -> Job:
    """Check the presigned upload really holds an acceptable file, then make it a job (the job
    takes the upload's id, so its media lives under `uploads/{job_id}/` like any other)."""
    with session_scope() as s:
        upload = s.get(Upload, req.upload_id)
        if upload is None or upload.tenant_id != principal.tenant_id:
            raise _upload_field_error("no such upload (create one with POST /v1/uploads)")
        if upload.job_id is not None:
            raise Conflict(f"upload {upload.id} was already used by job {upload.job_id}")
        if upload.expires_at + UPLOAD_GRACE < utcnow():
            raise _upload_field_error("the upload expired; create a new one")
        s.expunge(upload)
    try:
        info = store.stat(upload.object_key)
    except NotFound as exc:
        raise _upload_field_error("nothing was uploaded yet: PUT the file to the presigned URL first") from exc
    if info.size > upload.max_bytes:
        store.delete(upload.object_key)
        raise MediaTooLarge(f"the upload has {info.size} bytes, more than its limit of {upload.max_bytes}")
    if info.size == 0:
        raise _upload_field_error("the uploaded file is empty")
    try:
        media_type = sniff(store.read_head(upload.object_key, SNIFF_BYTES))
    except UnsupportedMedia:
        store.delete(upload.object_key)
        raise
    return insert_job(
        job_id=upload.id,
        principal=principal,
        settings=settings,
        media_type=media_type,
        filename=upload.filename,
        size=info.size,
        key=upload.object_key,
        callback_url=callback_url,
        metadata=req.metadata,
        idempotency_key=key,
        fingerprint=digest,
        upload_id=upload.id,
    )


async def _replay(
    request: Request,
    settings: Settings,
    principal: Principal,
    store: ObjectStore,
    claim: idempotency.Claim,
    is_json: bool,
) -> JSONResponse:
    """A retry of a request that already made a job: same payload → that job; else 422."""
    if is_json:
        req = await _read_json(request)
        digest = _json_fingerprint(req, _check_json_fields(req, settings))
    else:
        parsed = await StreamingUpload(request.headers["content-type"], None, None, settings.max_upload_bytes).run(
            request.stream()
        )
        callback_url = validate_callback_url(parsed.fields.get("callback_url"), settings.webhook_allowed_networks)
        metadata = validate_metadata(parsed.fields.get("metadata"), settings)
        digest = _multipart_fingerprint(parsed.sha256, parsed.filename, callback_url, metadata)
    if digest != claim.fingerprint:
        raise InvalidRequest(
            f"this {idempotency.HEADER} was already used with a different request payload",
            [{"field": idempotency.HEADER, "message": "reused with a different payload", "in": "header"}],
        )
    assert claim.job_id is not None
    with session_scope(settings.resolved_database_url) as s:
        job = repo.get_job(s, claim.job_id, principal.tenant_id)
        return job_response(job, settings, status_code=202, headers={"Idempotent-Replayed": "true"})


# --- reading ------------------------------------------------------------------------------


@router.get("/jobs/{job_id}", response_model=JobPublic, responses=problems(404), summary="Get a job")
def get_job(job_id: str, settings: SettingsDep, principal: PrincipalDep) -> JSONResponse:
    with session_scope(settings.resolved_database_url) as s:
        job = repo.get_job(s, job_id, principal.tenant_id)
        return job_response(job, settings)


@router.get("/jobs", response_model=JobList, responses=problems(422), summary="List jobs, newest first")
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


# --- cancel and delete --------------------------------------------------------------------


@router.delete(
    "/jobs/{job_id}",
    response_model=JobPublic,
    responses={204: {"description": "The job and everything about it were purged (`purge=true`)."}, **problems(404, 503)},
    summary="Cancel a job and delete its media (or purge it entirely)",
    description=(
        "An unfinished job is cancelled: queued work is revoked, a running detector stops at its next batch, "
        "and `job.cancelled` is sent to its callback. A finished job keeps its status and result. In both cases "
        "the media (upload, segments, artifacts) is deleted at once. With `purge=true` the job record, its "
        "result and its delivery log are removed too (no webhook is sent) and the answer is 204."
    ),
)
def delete_job(
    job_id: str,
    settings: SettingsDep,
    principal: PrincipalDep,
    store: StoreDep,
    purge: Annotated[bool, Query(description="Also remove the job record.")] = False,
) -> Response:
    with session_scope(settings.resolved_database_url) as s:
        job = repo.get_job(s, job_id, principal.tenant_id, for_update=True)
        cancelled = repo.cancel_job(s, job.id)
        segments = job.segments_total or 0
    if cancelled:
        revoke_job_tasks(job_id, segments)
        log.info("job cancelled", extra={"job_id": job_id, "tenant_id": principal.tenant_id})
        if not purge:  # the event goes out even if deleting the media below fails
            for name, args in job_finished(job_id, settings):
                try:
                    enqueue(name, *args)
                except BrokerUnavailable as exc:  # the delivery row is stored; the sweep queues it
                    log.warning("job.cancelled webhook not queued: %s", exc, extra={"job_id": job_id})
    delete_media(store, job_id)  # storage down: 503, and retention deletes it later
    if purge:
        with session_scope(settings.resolved_database_url) as s:
            s.execute(delete(Job).where(Job.id == job_id, Job.tenant_id == principal.tenant_id))
        log.info("job purged", extra={"job_id": job_id, "tenant_id": principal.tenant_id})
        return Response(status_code=204)
    mark_media_deleted(job_id)
    with session_scope(settings.resolved_database_url) as s:
        return job_response(repo.get_job(s, job_id, principal.tenant_id), settings)

