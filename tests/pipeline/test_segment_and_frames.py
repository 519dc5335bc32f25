from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.media.samples import make_clip
from shared.media.sniff import MP4
from shared.pipeline.frames import rotate_upright, sample_frames, sample_times
from shared.pipeline.probe import probe
from shared.pipeline.segment import SEGMENT_DEMUXER, frames_for, split
from shared.types import SegmentSpec


def test_copy_split_cuts_at_keyframes_without_reencoding(face_clip: Path, tmp_path: Path) -> None:
    info = probe(face_clip)
    segs = split(face_clip, MP4, info, tmp_path, segment_seconds=2, mode="copy")
    assert [s.index for s in segs] == [0, 1, 2]
    assert segs[0].start_s == 0 and segs[-1].end_s == pytest.approx(6.0, abs=0.05)
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.end_s == b.start_s
        assert b.start_s == pytest.approx(2.0 * b.index, abs=0.1)
    # every segment is a standalone Matroska file that decodes from its first frame
    for s in segs:
        frames = sample_frames(s.path, 2, demuxer=SEGMENT_DEMUXER)
        assert len(frames) == 2


def test_auto_mode_reencodes_when_keyframes_are_too_sparse(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "longgop.mp4", seconds=6, width=320, height=240, fps=25, keyint=250)
    info = probe(clip)
    copied = split(clip, MP4, info, tmp_path / "copy", segment_seconds=2, mode="copy")
    assert len(copied) == 1, "one keyframe: stream copy cannot cut"
    auto = split(clip, MP4, info, tmp_path / "auto", segment_seconds=2, mode="auto")
    assert len(auto) == 3
    assert [round(s.start_s) for s in auto] == [0, 2, 4]


def test_frames_for_scales_with_segment_length() -> None:
    assert frames_for(SegmentSpec(0, 0, 2.0), 2.0, 8) == 8
    assert frames_for(SegmentSpec(0, 0, 8.0), 2.0, 8) == 32
    assert frames_for(SegmentSpec(0, 0, 0.4), 2.0, 8) == 2
    assert frames_for(SegmentSpec(0, 0, 0.0), 2.0, 8) == 1


def test_sample_times_are_slice_centres() -> None:
    assert sample_times(2.0, 4) == [0.25, 0.75, 1.25, 1.75]
    assert sample_times(0.0, 3) == [0.0]


def test_sampled_frames_are_spread_over_the_video_and_carry_times(face_clip: Path) -> None:
    frames = sample_frames(face_clip, 6, demuxer="mov", offset_s=10.0)
    assert len(frames) == 6
    times = [f.time_s for f in frames]
    assert times == sorted(times)
    assert times[0] == pytest.approx(10.5, abs=0.05) and times[-1] == pytest.approx(15.5, abs=0.05)
    assert frames[0].image.shape == (480, 854, 3) and frames[0].image.dtype == np.uint8


def test_rotation_makes_frames_upright() -> None:
    img = np.zeros((2, 3, 3), np.uint8)
    img[0, 0] = 255  # top-left
    r90 = rotate_upright(img, 90)
    assert r90.shape == (3, 2, 3)
    assert r90[0, 1, 0] == 255, "clockwise: top-left moves to top-right"
    assert rotate_upright(img, 0) is img
