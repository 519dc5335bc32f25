"""Both object stores behave alike: the local folder (embedded default) and S3 (through the
real S3 gateway). Same keys, same results, NotFound for a missing key on every read."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.errors import NotFound
from shared.storage import LocalStore, ObjectStore, S3Store
from tests.support.services import S3Gateway


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "objects")
        return
    gw: S3Gateway = request.getfixturevalue("s3_gateway")
    yield S3Store(
        Settings(
            s3_endpoint=gw.endpoint,
            s3_access_key=gw.access_key,
            s3_secret_key=gw.secret_key,
            s3_bucket=f"store-{uuid.uuid4().hex[:12]}",  # created on first use
        )
    )


def test_put_then_get_round_trips_bytes_files_and_streams(store: ObjectStore, tmp_path: Path) -> None:
    assert store.put_bytes("uploads/j1/source.jpg", b"\xff\xd8jpeg", "image/jpeg") == 6
    assert store.get_bytes("uploads/j1/source.jpg") == b"\xff\xd8jpeg"

    src = tmp_path / "clip.mp4"
    src.write_bytes(b"v" * 300_000)
    assert store.put_file("uploads/j2/source.mp4", src, "video/mp4") == 300_000
    out = store.get_file("uploads/j2/source.mp4", tmp_path / "down" / "copy.mp4")
    assert out.read_bytes() == src.read_bytes()

    assert store.put_stream("segments/j2/00000.mkv", io.BytesIO(b"m" * 2_500_000)) == 2_500_000
    info, chunks = store.open_stream("segments/j2/00000.mkv", chunk_size=1_000_000)
    assert info.size == 2_500_000
    assert b"".join(chunks) == b"m" * 2_500_000


def test_stat_and_read_head(store: ObjectStore) -> None:
    store.put_bytes("uploads/j1/source.png", b"\x89PNG\r\n\x1a\n" + b"x" * 100, "image/png")
    info = store.stat("uploads/j1/source.png")
    assert info.key == "uploads/j1/source.png" and info.size == 108
    assert store.read_head("uploads/j1/source.png", 8) == b"\x89PNG\r\n\x1a\n"
    assert store.read_head("uploads/j1/source.png", 10_000) == b"\x89PNG\r\n\x1a\n" + b"x" * 100
    assert store.exists("uploads/j1/source.png")


def test_a_missing_key_is_not_found_on_every_read(store: ObjectStore, tmp_path: Path) -> None:
    store.put_bytes("uploads/other/source.jpg", b"x")  # the bucket exists; the key does not
    missing = "uploads/nope/source.jpg"
    for read in (
        lambda: store.get_bytes(missing),
        lambda: store.get_file(missing, tmp_path / "x"),
        lambda: store.read_head(missing, 4),
        lambda: store.stat(missing),
        lambda: store.open_stream(missing),
    ):
        with pytest.raises(NotFound, match="uploads/nope/source.jpg"):
            read()
    assert not store.exists(missing)
    store.delete(missing)  # deleting what is not there is harmless


def test_list_and_delete_prefix_touch_only_that_job(store: ObjectStore) -> None:
    for key in (
        "segments/j1/00000.mkv",
        "segments/j1/00001.mkv",
        "segments/j10/00000.mkv",
        "uploads/j1/source.mp4",
    ):
        store.put_bytes(key, key.encode())
    listed = sorted((o.key, o.size) for o in store.list("segments/j1/"))
    assert listed == [("segments/j1/00000.mkv", 21), ("segments/j1/00001.mkv", 21)]

    assert store.delete_prefix("segments/j1/") == 2
    assert list(store.list("segments/j1/")) == []
    assert store.exists("segments/j10/00000.mkv"), "a job whose id starts the same is not touched"
    assert store.exists("uploads/j1/source.mp4")
    assert store.delete_prefix("segments/j1/") == 0, "a second pass is harmless"


def test_overwriting_a_key_replaces_it(store: ObjectStore) -> None:
    store.put_bytes("artifacts/j1/faces/a.jpg", b"first")
    store.put_bytes("artifacts/j1/faces/a.jpg", b"second!")
    assert store.get_bytes("artifacts/j1/faces/a.jpg") == b"second!"
    assert store.stat("artifacts/j1/faces/a.jpg").size == 7


@pytest.mark.parametrize("key", ["", "/etc/passwd", "uploads/../../etc/passwd", "uploads//x", "uploads/./x"])
def test_keys_cannot_leave_the_store(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes(key, b"x")


def test_local_store_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")

    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            raise OSError("client went away")

    store.put_bytes("uploads/j1/source.mp4", b"complete")
    with pytest.raises(OSError, match="client went away"):
        store.put_stream("uploads/j1/source.mp4", io.BufferedReader(Broken()))
    assert store.get_bytes("uploads/j1/source.mp4") == b"complete", (
        "a failed upload never replaces the object"
    )
    assert [p.name for p in (tmp_path / "objects" / "uploads" / "j1").iterdir()] == ["source.mp4"]
    assert [o.key for o in store.list("")] == ["uploads/j1/source.mp4"]


def test_copy_makes_an_independent_object(store: ObjectStore) -> None:
    store.put_bytes("uploads/u1/source", b"\xff\xd8first" * 1000, "image/jpeg")
    info = store.copy("uploads/u1/source", "uploads/u1/source.jpg")
    assert info.key == "uploads/u1/source.jpg" and info.size == 7000
    store.put_bytes("uploads/u1/source", b"replaced")
    assert store.get_bytes("uploads/u1/source.jpg") == b"\xff\xd8first" * 1000
    with pytest.raises(NotFound):
        store.copy("uploads/none/source", "uploads/none/source.jpg")
