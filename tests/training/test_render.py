"""The training/evaluation video domain (issue 9): `frame_layout` reproduces `make_clip`'s
framing, and a real and a fake go through exactly the same processing chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.training.render import background, compose_frame, frame_layout, h264_roundtrip, render_pair


def test_layout_matches_make_clip(tmp_path: Path) -> None:
    from shared.media.samples import load_subject, make_clip
    from shared.pipeline.frames import sample_frames

    photo = load_subject("grace_hopper")
    clip = make_clip(tmp_path / "c.mp4", photo_array=photo, seconds=4, width=1280, height=720, fps=25, crf=10)
    backdrop = background(photo)
    for frame in sample_frames(clip, 3, demuxer="mp4", duration_s=4.0):
        ours = compose_frame(
            photo, frame_layout(photo.shape[1], photo.shape[0], frame.time_s, seconds=4), backdrop
        )
        mse = np.mean((ours.astype(float) - frame.image.astype(float)) ** 2)
        assert 10 * np.log10(255**2 / mse) > 26, f"at {frame.time_s:.2f} s the layouts differ"
        # and a wrong instant is clearly worse: the test can tell the geometry apart
        off = compose_frame(
            photo, frame_layout(photo.shape[1], photo.shape[0], (frame.time_s + 2) % 4, seconds=4), backdrop
        )
        assert np.mean((off.astype(float) - frame.image.astype(float)) ** 2) > 2 * mse


def test_roundtrip_decodes_every_frame_compressed() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(3)]
    out = h264_roundtrip(frames, crf=30)
    assert len(out) == 3 and all(o.shape == (240, 320, 3) for o in out)
    assert not np.array_equal(out[0], frames[0]), "lossy at CRF 30"
    high = h264_roundtrip(frames, crf=10)
    assert np.abs(high[0].astype(int) - frames[0]).mean() < np.abs(out[0].astype(int) - frames[0]).mean()


def test_real_and_fake_share_one_processing_chain() -> None:
    """Given the same photo as real and fake, the chain returns identical crops: nothing but
    the forgery can tell them apart."""
    from shared.media.samples import load_subject

    photo = load_subject("astronaut")
    box = (175.0, 60.0, 265.0, 185.0)
    real, fake = render_pair(
        photo, photo.copy(), box, np.random.default_rng(1), margin=0.3, crop_size=96, crf=23
    )
    assert len(real) == len(fake) == 2
    for r, f in zip(real, fake, strict=True):
        assert r.shape == (96, 96, 3)
        assert np.array_equal(r, f)
    altered = photo.copy()
    altered[100:150, 200:240] = 0
    real, fake = render_pair(photo, altered, box, np.random.default_rng(1), margin=0.3, crop_size=96, crf=23)
    assert not np.array_equal(real[0], fake[0])
