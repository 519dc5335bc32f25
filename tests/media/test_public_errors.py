"""Error text tells the client what is wrong with their media, or that a dependency is down,
never where things live (issue 11, defects 8 and 9): no worker temp path, no heap address from
an ffmpeg diagnostic, no storage endpoint, port or bucket path."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from shared.config import Settings
from shared.errors import CorruptMedia, MediaTooLarge, StorageUnavailable, public_text
from shared.media.ffmpeg import _last_error_line
from shared.media.sniff import JPEG, PNG, WEBP
from shared.pipeline.frames import load_image
from shared.pipeline.probe import probe
from shared.storage import S3Store
from tests.support.hostile_media import Context, jpeg_dims, png_dims, png_ztxt_bomb, webp_dims


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "cannot identify image file '/tmp/dfs-det-01J-0-x/source.jpg'",
            "cannot identify image file",
            "/tmp",
        ),
        ("[ffv1 @ 0x558b1a2b3c40] invalid frame header", "invalid frame header", "0x558b"),
        ("error at 0x7ffde0012345 in decoder", "in decoder", "0x7ffde"),
        ("object folder /var/lib/dfs/objects is not writable", "is not writable", "/var/lib"),
        (
            "POST /v1/jobs takes multipart/form-data",
            "POST /v1/jobs takes multipart/form-data",
            "(a local file)",
        ),
    ],
)
def test_public_text(text: str, kept: str, gone: str) -> None:
    out = public_text(text)
    assert kept in out and gone not in out


def test_an_ffmpeg_diagnostic_loses_its_heap_address() -> None:
    line = _last_error_line(
        b"[ffv1 @ 0x558b0c1d2e30] read_quant_table error\nfile:/tmp/x/seg.mkv: Invalid data\n"
    )
    assert line == "Invalid data"
    line = _last_error_line(b"[ffv1 @ 0x558b0c1d2e30] read_quant_table error\n")
    assert line == "read_quant_table error"


@pytest.mark.parametrize(
    ("make", "media_type"),
    [
        (png_dims(100_000, 100_000), PNG),
        (jpeg_dims(65_500, 65_500), JPEG),
        (webp_dims(16_383, 16_383), WEBP),
        (png_ztxt_bomb, PNG),
    ],
    ids=["png-100000", "jpeg-65500", "webp-16383", "png-ztxt-bomb"],
)
def test_image_bombs_are_media_too_large(tmp_path: Path, make, media_type) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"bomb.{media_type.ext}"
    make(Context(tmp_path, "http://127.0.0.1:9"), path)
    with pytest.raises((MediaTooLarge, CorruptMedia)) as err:
        probe(path, media_type)
    if media_type is not WEBP:  # libwebp may refuse the empty canvas before Pillow sees its size
        assert isinstance(err.value, MediaTooLarge), err.value
    assert str(tmp_path) not in err.value.detail


def test_an_undecodable_image_is_corrupt_without_its_path(tmp_path: Path) -> None:
    path = tmp_path / "dfs-det-01J-0-abc" / "source.jpg"
    path.parent.mkdir()
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    for call in (lambda: probe(path, JPEG), lambda: load_image(path, JPEG)):
        with pytest.raises(CorruptMedia) as err:
            call()
        assert "dfs-det" not in err.value.detail and str(tmp_path) not in err.value.detail


def test_storage_errors_do_not_name_the_endpoint() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    store = S3Store(
        Settings(
            s3_endpoint=f"127.0.0.1:{port}", s3_access_key="a", s3_secret_key="b", s3_bucket="secret-bucket"
        )
    )
    for call in (lambda: store.stat("uploads/x/source.jpg"), store.ping):
        with pytest.raises(StorageUnavailable) as err:
            call()
        problem = err.value.to_problem()
        for leak in (str(port), "127.0.0.1", "secret-bucket", "uploads/x"):
            assert leak not in problem["detail"], problem
