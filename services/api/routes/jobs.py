"""/v1/jobs: submit media (streamed multipart, or a presigned upload), read, list, cancel/delete.

Routes parse HTTP, authorise, call one job-domain function (`shared/jobs`) and present."""

from __future__ import annotations

import logging
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.api.deps import JobIdPath, PrincipalDep, SessionDep, SettingsDep, StoreDep
from services.api.metrics import JOBS_CREATED, UPLOAD_BYTES
from services.api.problems import problem_responses
from services.api.schemas import JobFromUpload
from services.api.upload import StreamingUpload
from shared.access.auth import Principal
from shared.config import Settings
from shared.db import Job, JobStatus, repo, scope_for
from shared.errors import Conflict, InvalidRequest, MediaTooLarge, UnsupportedMedia
from shared.ids import ULID_PATTERN, new_ulid
from shared.jobs import idempotency, lifecycle, submit
from shared.jobs.presenters import job_public
from shared.jobs.schemas import JobList, JobPublic
from shared.storage import ObjectStore
from shared.storage.keys import source_key
from shared.webhooks.netguard import validate_callback_url

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["jobs"])

MAX_JSON_BODY = 16 * 1024


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
                        "callback_url": {
                            "type": "string",
                            "maxLength": 2048,
                            "description": "Where job.* webhooks are sent: an absolute http(s) URL of a public"
                            " host (422 otherwise); empty: none. As `callback_url` of the JSON body.",
                        },
                        "metadata": {"type": "string", "description": "A JSON object, at most 4 KB."},
                    },
                }
            },
            "application/json": {"schema": JobFromUpload.model_json_schema()},
        },
    },
}


def present(job: Job, settings: Settings, response: Response, *, created: bool = False) -> JobPublic:
    """The job document, with the headers that go with it: `Retry-After` while it runs,
    `Location` when it was just created."""
    if not JobStatus(job.status).is_terminal:
        response.headers["Retry-After"] = str(settings.poll_after_s)
    if created:
        response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_public(job)


# --- submission ---------------------------------------------------------------------------


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobPublic,
    responses=problem_responses(400, 409, 413, 415, 422, 501, 503),
    openapi_extra=SUBMIT_BODY,
    summary="Submit a video or image (multipart upload, or JSON naming a presigned upload)",
)
async def create_job(
    request: Request, response: Response, settings: SettingsDep, principal: PrincipalDep, store: StoreDep
) -> JobPublic:
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
            raise Conflict(
                f"a request with {idempotency.HEADER} {key!r} is still being processed; retry later"
            )
        if claim.state == "done":
            job = await _replay(request, settings, principal, claim, is_json)
            response.headers["Idempotent-Replayed"] = "true"
            return present(job, settings, response, created=True)
    try:
        await anyio.to_thread.run_sync(
            submit.assert_can_start, principal, settings
        )  # before reading the body
        if is_json:
            job = await _create_from_upload(request, settings, principal, store, key)
        else:
            job = await _create_from_multipart(request, settings, principal, store, key)
    except BaseException:
        if key is not None:
            await anyio.to_thread.run_sync(idempotency.release_key, principal.tenant_id, key, settings)
        raise
    JOBS_CREATED.labels(kind=job.media_kind).inc()
    await anyio.to_thread.run_sync(submit.start_job, job)
    log.info("job created", extra={"job_id": job.id, "tenant_id": principal.tenant_id})
    return present(job, settings, response, created=True)


async def _create_from_multipart(
    request: Request, settings: Settings, principal: Principal, store: ObjectStore, key: str | None
) -> Job:
    job_id = new_ulid()
    upload = StreamingUpload(
        request.headers["content-type"],
        store,
        lambda mt: source_key(job_id, mt.ext),
        settings.max_upload_bytes,
    )
    parsed = await upload.run(request.stream())
    assert parsed.media_type is not None and parsed.stored_key is not None
    try:
        callback_url = validate_callback_url(
            parsed.fields.get("callback_url"), settings.webhook_allowed_networks
        )
        metadata = submit.parse_metadata(parsed.fields.get("metadata"), settings)
        new = submit.NewJob(
            job_id=job_id,
            media_type=parsed.media_type,
            filename=parsed.filename,
            size=parsed.size,
            key=parsed.stored_key,
            callback_url=callback_url,
            metadata=metadata,
            idempotency_key=key,
            fingerprint=submit.multipart_fingerprint(parsed.sha256, parsed.filename, callback_url, metadata),
        )
        job = await anyio.to_thread.run_sync(submit.insert_job, new, principal, settings)
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


def _json_fields(req: JobFromUpload, settings: Settings) -> tuple[str | None, str]:
    """The vetted callback URL and the request's idempotency fingerprint."""
    callback_url = validate_callback_url(req.callback_url, settings.webhook_allowed_networks)
    submit.check_metadata(req.metadata, settings)
    return callback_url, submit.upload_fingerprint(req.upload_id, callback_url, req.metadata)


async def _create_from_upload(
    request: Request, settings: Settings, principal: Principal, store: ObjectStore, key: str | None
) -> Job:
    req = await _read_json(request)
    callback_url, digest = _json_fields(req, settings)
    return await anyio.to_thread.run_sync(
        lambda: submit.job_from_upload(
            req.upload_id,
            callback_url=callback_url,
            metadata=req.metadata,
            principal=principal,
            settings=settings,
            store=store,
            idempotency_key=key,
            fingerprint=digest,
        )
    )


async def _replay(
    request: Request, settings: Settings, principal: Principal, claim: idempotency.Claim, is_json: bool
) -> Job:
    """A retry of a request that already made a job: same payload → that job; else 422."""
    if is_json:
        _, digest = _json_fields(await _read_json(request), settings)
    else:
        parsed = await StreamingUpload(
            request.headers["content-type"], None, None, settings.max_upload_bytes
        ).run(request.stream())
        callback_url = validate_callback_url(
            parsed.fields.get("callback_url"), settings.webhook_allowed_networks
        )
        metadata = submit.parse_metadata(parsed.fields.get("metadata"), settings)
        digest = submit.multipart_fingerprint(parsed.sha256, parsed.filename, callback_url, metadata)
    if digest != claim.fingerprint:
        raise InvalidRequest(
            f"this {idempotency.HEADER} was already used with a different request payload",
            [{"field": idempotency.HEADER, "message": "reused with a different payload", "in": "header"}],
        )
    assert claim.job_id is not None
    with scope_for(settings)() as s:
        return repo.get_job(s, claim.job_id, principal.tenant_id)


# --- reading ------------------------------------------------------------------------------


@router.get(
    "/jobs/{job_id}", response_model=JobPublic, responses=problem_responses(404, 422), summary="Get a job"
)
def get_job(
    job_id: JobIdPath, response: Response, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> JobPublic:
    return present(repo.get_job(session, job_id, principal.tenant_id), settings, response)


@router.get(
    "/jobs", response_model=JobList, responses=problem_responses(422), summary="List jobs, newest first"
)
def list_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(pattern=ULID_PATTERN, description="`next_cursor` of the previous page.")
    ] = None,
) -> JobList:
    jobs, next_cursor = repo.list_jobs(
        session, principal.tenant_id, status=status.value if status else None, limit=limit, cursor=cursor
    )
    return JobList(items=[job_public(j) for j in jobs], next_cursor=next_cursor)


# --- cancel and delete --------------------------------------------------------------------


@router.delete(
    "/jobs/{job_id}",
    response_model=JobPublic,
    responses={
        204: {"description": "The job and everything about it were purged (`purge=true`)."},
        **problem_responses(404, 422, 503),
    },
    summary="Cancel a job and delete its media (or purge it entirely)",
    description=(
        "An unfinished job is cancelled: queued work is revoked, a running detector stops at its next batch, "
        "and `job.cancelled` is sent to its callback. A finished job keeps its status and result. In both cases "
        "the media (upload, segments, artifacts) is deleted at once. With `purge=true` the job record, its "
        "result and its delivery log are removed too (no webhook is sent) and the answer is 204."
    ),
)
def delete_job(
    job_id: JobIdPath,
    response: Response,
    settings: SettingsDep,
    principal: PrincipalDep,
    store: StoreDep,
    purge: Annotated[bool, Query(description="Also remove the job record.")] = False,
) -> JobPublic | Response:
    job = lifecycle.cancel_and_delete(job_id, principal.tenant_id, store, settings, purge=purge)
    if job is None:
        return Response(status_code=204)
    return present(job, settings, response)
