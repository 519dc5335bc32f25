"""The evidence behind a verdict: a job's scored faces and its stored artifacts (face
thumbnails and heatmap overlays written by the detector under `artifacts/{job_id}/`)."""

from __future__ import annotations

import re
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from services.api.deps import JobIdPath, PrincipalDep, SessionDep, SettingsDep, StoreDep
from services.api.problems import problem_responses
from shared.db import repo, scope_for
from shared.errors import NotFound
from shared.jobs.presenters import face_public
from shared.jobs.schemas import FaceList
from shared.storage.keys import artifact_prefix

router = APIRouter(prefix="/v1", tags=["evidence"])

#: A relative artifact name: path segments of safe characters, none starting with a dot
#: (so no `..`, no hidden files), no empty segment, no leading slash.
ARTIFACT_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,4}")

#: Content types by extension. Anything else is served as an opaque download.
ARTIFACT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "json": "application/json",
}


def parse_face_cursor(cursor: str | None) -> tuple[int, int, int] | None:
    if cursor is None:
        return None
    seg, frame, face = (int(p) for p in cursor.split("."))
    return seg, frame, face


@router.get(
    "/jobs/{job_id}/faces",
    response_model=FaceList,
    responses=problem_responses(404, 422),
    summary="The job's scored faces, in time order",
)
def list_faces(
    job_id: JobIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    evidence: Annotated[
        bool,
        Query(description="Only the faces with a stored thumbnail (the most suspicious of each segment)."),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^\d{1,7}\.\d{1,5}\.\d{1,3}$", description="`next_cursor` of the previous page."),
    ] = None,
) -> FaceList:
    job = repo.get_job(session, job_id, principal.tenant_id)
    deleted = job.media_deleted_at is not None
    if deleted and evidence:
        return FaceList(items=[], next_cursor=None)
    faces, after = repo.list_faces(
        session, job_id, evidence_only=evidence, limit=limit, after=parse_face_cursor(cursor)
    )
    return FaceList(
        items=[face_public(f, media_deleted=deleted) for f in faces],
        next_cursor=".".join(str(v) for v in after) if after else None,
    )


@router.get(
    "/jobs/{job_id}/artifacts/{name:path}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {t: {} for t in sorted(set(ARTIFACT_TYPES.values()))},
            "description": "The artifact.",
        },
        **problem_responses(404, 422, 503),
    },
    summary="Stream one of the job's artifacts (face thumbnails, heatmap overlays)",
)
async def get_artifact(
    job_id: JobIdPath,
    name: Annotated[str, Path(description="Name under the job's artifacts, e.g. `faces/00000-003-0.jpg`.")],
    settings: SettingsDep,
    principal: PrincipalDep,
    store: StoreDep,
) -> StreamingResponse:
    """Only keys under `artifacts/{job_id}/` of a job the caller's tenant owns are reachable:
    anything else, including another tenant's job, answers 404."""
    if ARTIFACT_NAME.fullmatch(name) is None:
        raise NotFound(f"no artifact {name!r} for job {job_id}")

    def owned() -> None:
        with scope_for(settings)() as s:
            repo.get_job(s, job_id, principal.tenant_id)

    await anyio.to_thread.run_sync(owned)
    key = artifact_prefix(job_id) + name
    info, chunks = await anyio.to_thread.run_sync(lambda: store.open_stream(key))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    headers = {
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if info.size >= 0:
        headers["Content-Length"] = str(info.size)
    return StreamingResponse(
        chunks, media_type=ARTIFACT_TYPES.get(ext, "application/octet-stream"), headers=headers
    )
