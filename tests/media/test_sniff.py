from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import UnsupportedMedia
from shared.media.sniff import sniff


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    ],
)
def test_supported_types_are_recognised_by_content(head: bytes, ext: str) -> None:
    assert sniff(head).ext == ext


@pytest.mark.parametrize(
    "head",
    [b"hello world, not media", b"%PDF-1.7\n", b"\x00\x00\x00\x18ftypheic", b"ID3\x04\x00", b"GIF89a", b""],
)
def test_anything_else_is_unsupported(head: bytes) -> None:
    with pytest.raises(UnsupportedMedia):
        sniff(head)


def test_generated_media_sniff_as_what_they_are(face_clip: Path, face_image: Path, text_file: Path) -> None:
    assert sniff(face_clip.read_bytes()[:4096]).ext == "mp4"
    assert sniff(face_image.read_bytes()[:4096]).ext == "jpg"
    with pytest.raises(UnsupportedMedia):
        sniff(text_file.read_bytes()[:4096])
