"""/v1/uploads: presigned direct-to-S3 uploads for large files (then POST /v1/jobs with JSON)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Body

from services.api.deps import PrincipalDep, SessionDep, SettingsDep, StoreDep
from services.api.problems import problem_responses
from services.api.schemas import UploadCreate, UploadPublic
from shared.db import Upload
from shared.db.models import utcnow
from shared.errors import FeatureUnavailable, MediaTooLarge
from shared.ids import new_ulid
from shared.jobs.submit import clean_filename
from shared.storage.keys import presigned_upload_key

router = APIRouter(prefix="/v1", tags=["uploads"])


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadPublic,
    responses=problem_responses(400, 413, 422, 501, 503),
    summary="Get a presigned URL to upload a large file straight to object storage",
    description=(
        'PUT the file\'s bytes to `url` before `expires_at` (e.g. `curl -T clip.mp4 "$url"`), then start the '
        'job with `POST /v1/jobs` and the JSON body `{"upload_id": ...}`. The file\'s real type and size are '
        "checked then. Needs an S3 object store: a deployment on the local-folder store answers 501."
    ),
)
def create_upload(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    store: StoreDep,
    body: UploadCreate | None = Body(None),
) -> UploadPublic:
    body = body or UploadCreate()
    if not settings.s3_endpoint:
        raise FeatureUnavailable(
            "presigned uploads need an S3 object store (DFS_S3_ENDPOINT); on this deployment POST the file to"
            " /v1/jobs as multipart/form-data"
        )
    if body.size_bytes is not None and body.size_bytes > settings.max_upload_bytes:
        raise MediaTooLarge(f"the upload exceeds the limit of {settings.max_upload_bytes} bytes")
    upload_id = new_ulid()
    ttl = timedelta(seconds=settings.upload_url_ttl_s)
    url = store.presigned_put_url(presigned_upload_key(upload_id), ttl)
    now = utcnow()
    upload = Upload(
        id=upload_id,
        tenant_id=principal.tenant_id,
        object_key=presigned_upload_key(upload_id),
        filename=clean_filename(body.filename),
        max_bytes=body.size_bytes or settings.max_upload_bytes,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(upload)
    session.flush()  # committed by the session dependency before the answer goes out
    return UploadPublic(
        upload_id=upload_id, url=url, expires_at=upload.expires_at, max_bytes=upload.max_bytes
    )
