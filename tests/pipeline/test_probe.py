from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from shared.pipeline.probe import parse_ffprobe, probe

PHONE = {
    "streams": [
        {
            "index": 0,
            "codec_name": "h264",
            "codec_type": "video",
            "width": 1920,
            "height": 1080,
            "avg_frame_rate": "30000/1001",
            "r_frame_rate": "30000/1001",
            "duration": "12.345",
            "nb_frames": "370",
            "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
        },
        {"index": 1, "codec_name": "aac", "codec_type": "audio"},
    ],
    "format": {
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration": "12.400",
        "size": "5000000",
        "bit_rate": "3225806",
    },
}


def test_phone_video_with_display_matrix() -> None:
    info = parse_ffprobe(PHONE)
    assert info.kind == "video" and info.codec == "h264"
    assert info.duration_s == pytest.approx(12.345)  # the stream's own duration wins
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert info.rotation == 90, "display matrix -90 means: turn 90 degrees clockwise to display"
    assert (info.display_width, info.display_height) == (1080, 1920)
    assert info.nb_frames == 370 and info.bit_rate == 3225806 and info.size_bytes == 5000000


def test_legacy_rotate_tag_and_format_duration_fallback() -> None:
    data = {
        "streams": [
            {
                "codec_type": "video",
                "codec_name": "mpeg4",
                "width": 640,
                "height": 480,
                "avg_frame_rate": "0/0",
                "r_frame_rate": "25/1",
                "tags": {"rotate": "270"},
            }
        ],
        "format": {"format_name": "avi", "duration": "3.5"},
    }
    info = parse_ffprobe(data)
    assert info.rotation == 270 and info.fps == 25 and info.duration_s == 3.5


def test_cover_art_is_not_a_video_stream() -> None:
    data = {
        "streams": [
            {"codec_type": "audio", "codec_name": "mp3"},
            {
                "codec_type": "video",
                "codec_name": "mjpeg",
                "width": 500,
                "height": 500,
                "disposition": {"attached_pic": 1},
            },
        ],
        "format": {},
    }
    with pytest.raises(UnsupportedMedia, match="no video stream"):
        parse_ffprobe(data)


def test_no_streams_is_corrupt() -> None:
    with pytest.raises(CorruptMedia):
        parse_ffprobe({"streams": [], "format": {}})
    with pytest.raises(CorruptMedia):
        parse_ffprobe({"streams": [{"codec_type": "video", "width": 0, "height": 0}]})


def test_probe_a_real_clip(face_clip: Path) -> None:
    info = probe(face_clip)
    assert (info.width, info.height, info.fps, info.rotation) == (854, 480, 25.0, 0)
    assert info.duration_s == pytest.approx(6.0, abs=0.05)
    assert info.size_bytes == face_clip.stat().st_size


def test_rotation_matches_ffmpegs_own_autorotation(noface_clip: Path, tmp_path: Path) -> None:
    """Frames we make upright must equal what ffmpeg's autorotate shows for the same file."""
    import numpy as np
    from PIL import Image

    from shared.pipeline.frames import sample_frames

    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(noface_clip),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
    )
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.display_width, info.display_height) == (480, 854)
    ours = sample_frames(rotated, 1, demuxer="mov", duration_s=0.02, rotation=info.rotation)[0].image
    reference = tmp_path / "ref.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(rotated), "-frames:v", "1", str(reference)], check=True
    )
    ref = np.asarray(Image.open(reference).convert("RGB")).astype(int)
    assert ours.shape == ref.shape == (854, 480, 3)
    assert np.abs(ours.astype(int) - ref).mean() < 3.0
    assert np.abs(np.rot90(ours, 2).astype(int) - ref).mean() > 10.0, "the wrong way round would differ"


def test_probe_limits(face_clip: Path, face_image: Path) -> None:
    with pytest.raises(MediaTooLarge, match="lasts"):
        probe(face_clip, max_duration_s=2)
    with pytest.raises(MediaTooLarge, match="pixels"):
        probe(face_image, max_pixels=100 * 100)


def test_probe_corrupt_file_says_why(corrupt_clip: Path) -> None:
    with pytest.raises(CorruptMedia, match="ffprobe|damaged"):
        probe(corrupt_clip)
