"""Creating a job: check what the client sent, commit the job row, queue its first task.

The API's routes parse HTTP and call these; nothing here knows about requests. A job is
acknowledged only once its media is stored and its row committed; queuing comes after, and a
broker outage there loses nothing (the reconciler queues a job that stayed `queued`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.access.auth import Principal
from shared.access.ratelimit import check_running_jobs
from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.config import Settings
from shared.db import Job, JobStatus, SessionScope, Upload, repo, scope_for
from shared.db.models import utcnow
from shared.errors import (
    BrokerUnavailable,
    Conflict,
    InvalidRequest,
    MediaTooLarge,
    NotFound,
    UnsupportedMedia,
)
from shared.jobs import idempotency
from shared.jobs.lifecycle import UPLOAD_GRACE
from shared.media.sniff import SNIFF_BYTES, MediaType, sniff
from shared.storage import ObjectStore
from shared.storage.keys import source_key

log = logging.getLogger(__name__)


# --- what the client sent -------------------------------------------------------------------


def _metadata_too_large(settings: Settings) -> InvalidRequest:
    return InvalidRequest(
        f"metadata exceeds {settings.max_metadata_bytes} bytes",
        [{"field": "metadata", "message": f"at most {settings.max_metadata_bytes} bytes"}],
    )


#: How deep `metadata` may nest and how many keys and values it may hold in all: enough for any
#: honest use, and far from what breaks a JSON serialiser's recursion limit.
MAX_METADATA_DEPTH = 16
MAX_METADATA_ITEMS = 512


def _metadata_error(message: str) -> InvalidRequest:
    return InvalidRequest(f"metadata: {message}", [{"field": "metadata", "message": message}])


def parse_metadata(raw: str | None, settings: Settings) -> dict[str, Any]:
    """The `metadata` form field of a multipart submission: a JSON object within the size limit."""
    if raw is None or raw.strip() == "":
        return {}
    if len(raw.encode("utf-8", "surrogatepass")) > settings.max_metadata_bytes:
        raise _metadata_too_large(settings)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            "metadata is not valid JSON", [{"field": "metadata", "message": str(exc)}]
        ) from exc
    except RecursionError as exc:
        raise _metadata_error(f"nests deeper than {MAX_METADATA_DEPTH} levels") from exc
    if not isinstance(value, dict):
        raise InvalidRequest(
            "metadata must be a JSON object", [{"field": "metadata", "message": "must be an object"}]
        )
    return check_metadata(value, settings)


def check_metadata(metadata: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Every submission's metadata (multipart or JSON) obeys one rule: at most
    `max_metadata_bytes` of JSON, `MAX_METADATA_DEPTH` levels and `MAX_METADATA_ITEMS` keys and
    values, finite numbers only, and text Postgres can store (no NUL, no lone surrogate)."""
    _check_metadata_shape(metadata)
    if len(json.dumps(metadata).encode("utf-8")) > settings.max_metadata_bytes:
        raise _metadata_too_large(settings)
    return metadata


def _check_metadata_shape(metadata: dict[str, Any]) -> None:
    items = 0
    stack: list[tuple[Any, int]] = [(metadata, 1)]
    while stack:  # iterative: a hostile depth cannot exhaust the interpreter's stack
        value, depth = stack.pop()
        if depth > MAX_METADATA_DEPTH:
            raise _metadata_error(f"nests deeper than {MAX_METADATA_DEPTH} levels")
        items += 1
        if items > MAX_METADATA_ITEMS:
            raise _metadata_error(f"holds more than {MAX_METADATA_ITEMS} keys and values")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(str(key))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise _metadata_error("numbers must be finite (no NaN or Infinity, nothing beyond 1e308)")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _metadata_error("text may not contain the NUL character (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _metadata_error("text may not contain lone UTF-16 surrogates (e.g. \\ud800)") from exc


def clean_filename(name: str | None) -> str | None:
    """The one rule for a client's file name, whichever way it arrived (multipart part or
    presigned upload): its last path component only, printable characters only (no NUL, no
    control character, no lone surrogate), at most 255 characters. Markup stays as written:
    it is text, and every view renders it as text."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:255]
    return name if name not in ("", ".", "..") else None


def multipart_fingerprint(
    sha256: str, filename: str | None, callback_url: str | None, metadata: dict[str, Any]
) -> str:
    """What makes two multipart submissions "the same request" for Idempotency-Key."""
    return idempotency.fingerprint(
        "multipart", file=sha256, filename=filename, callback_url=callback_url, metadata=metadata
    )


def upload_fingerprint(upload_id: str, callback_url: str | None, metadata: dict[str, Any]) -> str:
    """What makes two presigned-upload submissions "the same request" for Idempotency-Key."""
    return idempotency.fingerprint(
        "upload", upload_id=upload_id, callback_url=callback_url, metadata=metadata
    )


# --- the job row ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """Everything a job row is made from, whichever way the media arrived."""

    job_id: str
    media_type: MediaType
    filename: str | None
    size: int
    key: str
    callback_url: str | None
    metadata: dict[str, Any]
    idempotency_key: str | None = None
    fingerprint: str | None = None
    upload_id: str | None = None


def add_image_segment(session: Session, job_id: str, key: str) -> None:
    """An image is a job of one segment: index 0, no time range, its object the source itself."""
    repo.insert_segments(session, job_id, [{"index": 0, "start_s": 0.0, "end_s": 0.0, "object_key": key}])


def assert_can_start(principal: Principal, settings: Settings, sessions: SessionScope | None = None) -> None:
    """Refuse (429) before the body is read when the tenant already runs its maximum of jobs."""
    with (sessions or scope_for(settings))() as s:
        check_running_jobs(s, principal.tenant_id, settings)


def insert_job(
    new: NewJob, principal: Principal, settings: Settings, sessions: SessionScope | None = None
) -> Job:
    """Commit the job row (and, for an image, its single segment), in one transaction with the
    tenant's running-jobs check, the idempotency key's binding and the upload's consumption."""
    with (sessions or scope_for(settings))() as s:
        check_running_jobs(s, principal.tenant_id, settings, lock=True)
        job = Job(
            id=new.job_id,
            tenant_id=principal.tenant_id,
            status=JobStatus.queued.value,
            media_kind=new.media_type.kind,
            filename=new.filename,
            content_type=new.media_type.mime,
            size_bytes=new.size,
            source_key=new.key,
            callback_url=new.callback_url,
            meta=new.metadata,
            idempotency_key=new.idempotency_key,
        )
        s.add(job)
        try:
            s.flush()
        except IntegrityError as exc:  # a concurrent request made a job from the same upload
            raise Conflict(
                f"upload {new.upload_id or new.job_id} was already used by another request"
            ) from exc
        if new.upload_id is not None:
            res = s.execute(
                update(Upload)
                .where(Upload.id == new.upload_id, Upload.job_id.is_(None))
                .values(job_id=new.job_id)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                raise Conflict(f"upload {new.upload_id} was already used")
        if new.idempotency_key is not None and new.fingerprint is not None:
            idempotency.complete_key(s, principal.tenant_id, new.idempotency_key, new.fingerprint, new.job_id)
        if new.media_type.kind == "image":
            add_image_segment(s, new.job_id, new.key)
        s.refresh(job)
        return job


def _upload_field_error(message: str) -> InvalidRequest:
    return InvalidRequest(f"upload_id: {message}", [{"field": "upload_id", "message": message, "in": "body"}])


def job_from_upload(
    upload_id: str,
    *,
    callback_url: str | None,
    metadata: dict[str, Any],
    principal: Principal,
    settings: Settings,
    store: ObjectStore,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    sessions: SessionScope | None = None,
) -> Job:
    """Check the presigned upload really holds an acceptable file, then make it a job (the job
    takes the upload's id, so its media lives under `uploads/{job_id}/` like any other).

    The presigned URL stays valid until it expires, so the job never reads the object it points
    at: the upload is copied to the job's own key (`source.{ext}`, which no URL can write), and
    the copy is what is checked, recorded (size) and analysed."""
    sessions = sessions or scope_for(settings)
    with sessions() as s:
        upload = s.get(Upload, upload_id)
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
        raise _upload_field_error(
            "nothing was uploaded yet: PUT the file to the presigned URL first"
        ) from exc
    media_type = _check_upload_object(store, upload.object_key, info.size, upload.max_bytes)
    key = source_key(upload.id, media_type.ext)
    copied = store.copy(upload.object_key, key)
    try:
        # What a PUT may have changed between the checks above and the copy is checked again.
        media_type = _check_upload_object(store, key, copied.size, upload.max_bytes)
        if key != source_key(upload.id, media_type.ext):
            raise UnsupportedMedia("the upload changed while the job was being created")
        new = NewJob(
            job_id=upload.id,
            media_type=media_type,
            filename=upload.filename,
            size=copied.size,
            key=key,
            callback_url=callback_url,
            metadata=metadata,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            upload_id=upload.id,
        )
        job = insert_job(new, principal, settings, sessions)
    except BaseException:
        store.delete(key)
        raise
    store.delete(upload.object_key)
    return job


def _check_upload_object(store: ObjectStore, key: str, size: int, max_bytes: int) -> MediaType:
    """An uploaded object's size within its limit and a supported type (sniffed from its
    content); a refused object is deleted."""
    if size > max_bytes:
        store.delete(key)
        raise MediaTooLarge(f"the upload has {size} bytes, more than its limit of {max_bytes}")
    if size == 0:
        raise _upload_field_error("the uploaded file is empty")
    try:
        return sniff(store.read_head(key, SNIFF_BYTES))
    except UnsupportedMedia:
        store.delete(key)
        raise


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
