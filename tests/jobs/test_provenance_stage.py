"""The provenance stage runs once per upload, inside the job's own work functions (the segmenter
for a video, the image's one detect task), is stored with the job and shown in the public job
document (the API's answer and the webhook payload); a hostile manifest never fails the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.access.auth import Principal
from shared.broker.queues import TaskName
from shared.db import SessionScope, repo
from shared.ids import new_ulid
from shared.jobs.presenters import job_document
from shared.jobs.submit import NewJob, insert_job
from shared.jobs.work import aggregate_job, detect_segment, segment_job
from shared.media.sniff import JPEG, MP4, MediaType
from shared.storage import ObjectStore
from shared.storage.keys import source_key
from tests.support.c2pa_signing import make_ca, sign_media


def submit(path: Path, media_type: MediaType, settings: Any, store: ObjectStore) -> str:
    job_id = new_ulid()
    key = source_key(job_id, media_type.ext)
    store.put_file(key, path, media_type.mime)
    new = NewJob(
        job_id=job_id,
        media_type=media_type,
        filename=path.name,
        size=path.stat().st_size,
        key=key,
        callback_url=None,
        metadata={},
    )
    insert_job(new, Principal("local"), settings)
    return job_id


def document(sessions: SessionScope, job_id: str) -> dict[str, Any]:
    with sessions() as s:
        return job_document(repo.get_job(s, job_id))


def test_an_ai_declared_image_is_reported_beside_the_models_verdict(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path, tmp_path: Path
) -> None:
    ca = make_ca()
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    job_id = submit(signed, JPEG, embedded_settings, store)
    assert document(sessions, job_id)["provenance"] is None, "not read before the work starts"

    assert detect_segment(job_id, 0, embedded_settings, sessions).tasks == [(TaskName.aggregate, (job_id,))]
    assert aggregate_job(job_id, embedded_settings, sessions).finished == [job_id]

    doc = document(sessions, job_id)  # what GET /v1/jobs/{id} answers and the webhook carries
    assert doc["status"] == "completed"
    assert doc["result"]["verdict"] in ("fake", "real", "no_face"), "the verdict stays the model's"
    prov = doc["provenance"]
    assert (prov["present"], prov["valid"], prov["trusted"], prov["ai_generated"]) == (
        True,
        True,
        False,
        True,
    )
    assert prov["signer"] == {"issuer": ca.org, "common_name": ca.signer_cn}
    assert prov["actions"][0]["digital_source_type"] == "trainedAlgorithmicMedia"


def test_a_hostile_manifest_is_shown_invalid_and_the_job_still_completes(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, face_image: Path, tmp_path: Path
) -> None:
    data = bytearray(sign_media(face_image, tmp_path / "signed.jpg", make_ca()).read_bytes())
    at = data.find(b"c2pa")
    data[at + 40 : at + 400] = b"\xff" * 360
    hostile = tmp_path / "hostile.jpg"
    hostile.write_bytes(bytes(data))
    job_id = submit(hostile, JPEG, embedded_settings, store)

    detect_segment(job_id, 0, embedded_settings, sessions)
    assert aggregate_job(job_id, embedded_settings, sessions).finished == [job_id]
    doc = document(sessions, job_id)
    assert doc["status"] == "completed" and doc["error"] is None
    prov = doc["provenance"]
    assert (prov["present"], prov["valid"]) == (True, False)
    assert prov["validation_errors"][0]["code"] == "dfs.manifestUnreadable"


def test_the_segmenter_reads_a_videos_provenance_once_before_splitting(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore, tmp_path: Path
) -> None:
    from shared.media.samples import make_clip

    clip = make_clip(tmp_path / "clip.mp4", "astronaut", seconds=2, width=192, height=108, fps=10)
    signed = sign_media(
        clip, tmp_path / "generated.mp4", make_ca(), source_type="compositeWithTrainedAlgorithmicMedia"
    )
    job_id = submit(signed, MP4, embedded_settings, store)
    plain_id = submit(clip, MP4, embedded_settings, store)

    assert [t for t, _ in segment_job(job_id, embedded_settings, sessions).tasks] == [TaskName.detect]
    segment_job(plain_id, embedded_settings, sessions)
    prov = document(sessions, job_id)["provenance"]
    assert (prov["present"], prov["valid"], prov["ai_generated"]) == (True, True, True)
    assert prov["actions"][0]["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert document(sessions, plain_id)["provenance"]["present"] is False
