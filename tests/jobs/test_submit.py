"""Job creation: what the client sent is checked, the row (and an image's one segment) is
committed, and a presigned upload becomes a job only when it holds an acceptable file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.access.auth import Principal
from shared.db import Job, SessionScope, Upload, repo
from shared.db.models import utcnow
from shared.errors import Conflict, CorruptMedia, InvalidRequest, MediaTooLarge, UnsupportedMedia
from shared.ids import new_ulid
from shared.jobs.submit import NewJob, insert_job, job_from_upload, parse_metadata
from shared.media.sniff import JPEG, MP4
from shared.storage import ObjectStore
from shared.storage.keys import presigned_upload_key, source_key

LOCAL = Principal(tenant_id="local")


def test_an_image_job_has_its_single_segment_at_once(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = new_ulid()
    key = source_key(job_id, "jpg")
    new = NewJob(job_id, JPEG, "photo.jpg", 1234, key, callback_url=None, metadata={"case": 1})
    job = insert_job(new, LOCAL, embedded_settings, sessions)
    assert (job.status, job.media_kind, job.content_type, job.meta) == (
        "queued",
        "image",
        "image/jpeg",
        {"case": 1},
    )
    with sessions() as s:
        [seg] = repo.segments_of(s, job_id)
        assert (seg.index, seg.start_s, seg.end_s, seg.object_key, seg.status) == (
            0,
            0.0,
            0.0,
            key,
            "pending",
        )
        assert repo.get_job(s, job_id).segments_total == 1


def test_a_video_job_waits_for_the_segmenter(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = new_ulid()
    insert_job(
        NewJob(job_id, MP4, "clip.mp4", 10, source_key(job_id, "mp4"), None, {}),
        LOCAL,
        embedded_settings,
        sessions,
    )
    with sessions() as s:
        assert repo.segments_of(s, job_id) == [] and repo.get_job(s, job_id).segments_total is None


def test_parse_metadata(embedded_settings: Any) -> None:
    assert parse_metadata(None, embedded_settings) == {}
    assert parse_metadata("  ", embedded_settings) == {}
    assert parse_metadata('{"case": "a", "n": [1, 2]}', embedded_settings) == {"case": "a", "n": [1, 2]}
    with pytest.raises(InvalidRequest, match="not valid JSON") as err:
        parse_metadata("{case: a}", embedded_settings)
    assert err.value.extra["errors"][0]["field"] == "metadata"
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        parse_metadata("[1, 2]", embedded_settings)
    limit = embedded_settings.max_metadata_bytes
    with pytest.raises(InvalidRequest, match=f"exceeds {limit} bytes"):
        parse_metadata('{"x": "' + "é" * (limit // 2) + '"}', embedded_settings)  # counted in UTF-8 bytes


def make_upload(
    sessions: SessionScope, *, tenant: str = "local", max_bytes: int = 1_000_000, expired: bool = False
) -> Upload:
    upload_id = new_ulid()
    expires = utcnow() + (-timedelta(hours=2) if expired else timedelta(minutes=10))
    upload = Upload(
        id=upload_id,
        tenant_id=tenant,
        object_key=presigned_upload_key(upload_id),
        filename="up.jpg",
        max_bytes=max_bytes,
        expires_at=expires,
    )
    with sessions() as s:
        s.add(upload)
    return upload


def submit(
    upload_id: str, settings: Any, store: ObjectStore, sessions: SessionScope, principal: Principal = LOCAL
):  # type: ignore[no-untyped-def]
    return job_from_upload(
        upload_id,
        callback_url=None,
        metadata={},
        principal=principal,
        settings=settings,
        store=store,
        sessions=sessions,
    )


def test_an_upload_becomes_a_job_of_the_same_id_once(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path
) -> None:
    upload = make_upload(sessions)
    store.put_file(upload.object_key, face_image)
    job = submit(upload.id, embedded_settings, store, sessions)
    assert job.id == upload.id and job.media_kind == "image" and job.size_bytes == face_image.stat().st_size
    with pytest.raises(Conflict, match=f"already used by job {upload.id}"):
        submit(upload.id, embedded_settings, store, sessions)


def test_upload_refusals(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path
) -> None:
    s, st, ses = embedded_settings, store, sessions
    with pytest.raises(InvalidRequest, match="no such upload"):
        submit(new_ulid(), s, st, ses)
    theirs = make_upload(sessions, tenant="someone-else")
    st.put_file(theirs.object_key, face_image)
    with pytest.raises(InvalidRequest, match="no such upload"):
        submit(theirs.id, s, st, ses)
    expired = make_upload(sessions, expired=True)
    with pytest.raises(InvalidRequest, match="expired"):
        submit(expired.id, s, st, ses)
    nothing = make_upload(sessions)
    with pytest.raises(InvalidRequest, match="nothing was uploaded yet"):
        submit(nothing.id, s, st, ses)
    empty = make_upload(sessions)
    st.put_bytes(empty.object_key, b"")
    with pytest.raises(InvalidRequest, match="empty"):
        submit(empty.id, s, st, ses)


def test_an_oversized_or_unsupported_upload_is_refused_and_its_object_deleted(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path
) -> None:
    big = make_upload(sessions, max_bytes=100)
    store.put_file(big.object_key, face_image)
    with pytest.raises(MediaTooLarge, match="more than its limit of 100"):
        submit(big.id, embedded_settings, store, sessions)
    assert not store.exists(big.object_key)

    text = make_upload(sessions)
    store.put_bytes(text.object_key, b"this is not a video\n" * 50)
    with pytest.raises(UnsupportedMedia):
        submit(text.id, embedded_settings, store, sessions)
    assert not store.exists(text.object_key)
    with sessions() as s:
        assert repo.find_job(s, big.id) is None and repo.find_job(s, text.id) is None


def test_a_job_made_from_an_upload_owns_its_media(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path, noface_clip: Path
) -> None:
    """The presigned URL stays valid after the job exists: a second PUT must not reach the job
    (issue 11: an 86 KB image checked at creation was replaced by a 1.5 MB file)."""
    upload = make_upload(sessions)
    store.put_file(upload.object_key, face_image)
    job = submit(upload.id, embedded_settings, store, sessions)
    assert job.source_key == source_key(upload.id, "jpg") != upload.object_key
    assert not store.exists(upload.object_key), "the presigned object is gone once copied"
    store.put_file(upload.object_key, noface_clip)  # what a second PUT to the URL does
    assert store.get_bytes(job.source_key) == face_image.read_bytes()


def test_the_worker_refuses_a_source_that_changed_after_submission(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, noface_clip: Path, face_image: Path
) -> None:
    from shared.jobs.work import segment_job
    from tests.support.seed import add_job

    job_id = add_job(sessions)
    with sessions() as s:
        s.get(Job, job_id).size_bytes = noface_clip.stat().st_size  # type: ignore[union-attr]
    store.put_file(source_key(job_id, "mp4"), face_image)  # another size and another type
    with pytest.raises(CorruptMedia, match="not the file accepted"):
        segment_job(job_id, embedded_settings, sessions)
    store.put_file(source_key(job_id, "mp4"), noface_clip)  # the file accepted: analysed
    assert segment_job(job_id, embedded_settings, sessions).tasks
