"""Object storage: a local folder (embedded default) or any S3 API (MinIO client).

Keys are the same everywhere: `uploads/{job}/source.{ext}`, `segments/{job}/{i}.mkv`,
`artifacts/{job}/...`. Every backend error surfaces as `StorageUnavailable` (transient) or
`NotFound`, so callers never see a backend-specific exception.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from shared.config import Settings, get_settings
from shared.errors import NotFound, StorageUnavailable

log = logging.getLogger(__name__)

#: Bytes per chunk when an object is streamed to a client.
STREAM_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None = None
    #: the S3 ETag (changes when the object does); None on the local folder store
    etag: str | None = None


class ObjectStore(Protocol):
    def put_stream(
        self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream"
    ) -> int: ...
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> int: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> int: ...
    def get_file(self, key: str, path: Path) -> Path: ...
    def get_bytes(self, key: str) -> bytes: ...
    def read_head(self, key: str, length: int) -> bytes: ...
    def open_stream(self, key: str, chunk_size: int = ...) -> tuple[ObjectInfo, Iterator[bytes]]: ...
    def stat(self, key: str) -> ObjectInfo: ...
    def copy(self, src: str, dst: str) -> ObjectInfo: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...
    def presigned_put_url(self, key: str, expires: timedelta) -> str: ...
    def presigned_get_url(self, key: str, expires: timedelta) -> str: ...
    def ping(self) -> None: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class LocalStore:
    """Objects as files under one folder. Writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1024 * 1024):
                    out.write(chunk)
                    size += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> int:
        with open(path, "rb") as fh:
            return self.put_stream(key, fh, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> int:
        return self.put_stream(key, io.BytesIO(data), content_type)

    def get_file(self, key: str, path: Path) -> Path:
        src = self._path(key)
        if not src.is_file():
            raise NotFound(f"object {key} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)
        return path

    def get_bytes(self, key: str) -> bytes:
        src = self._path(key)
        if not src.is_file():
            raise NotFound(f"object {key} does not exist")
        return src.read_bytes()

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Copy an object (atomically: the destination is complete or absent); the copy's info."""
        source = self._path(src)
        if not source.is_file():
            raise NotFound(f"object {src} does not exist")
        with open(source, "rb") as fh:
            self.put_stream(dst, fh)
        return self.stat(dst)

    def read_head(self, key: str, length: int) -> bytes:
        src = self._path(key)
        if not src.is_file():
            raise NotFound(f"object {key} does not exist")
        with open(src, "rb") as fh:
            return fh.read(length)

    def open_stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> tuple[ObjectInfo, Iterator[bytes]]:
        src = self._path(key)
        try:
            fh = open(src, "rb")  # noqa: SIM115  (closed by the generator)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"object {key} does not exist") from exc
        size = os.fstat(fh.fileno()).st_size

        def chunks() -> Iterator[bytes]:
            with fh:
                while chunk := fh.read(chunk_size):
                    yield chunk

        return ObjectInfo(key=key, size=size), chunks()

    def stat(self, key: str) -> ObjectInfo:
        src = self._path(key)
        if not src.is_file():
            raise NotFound(f"object {key} does not exist")
        return ObjectInfo(key=key, size=src.stat().st_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        count = 0
        for info in list(self.list(prefix)):
            self.delete(info.key)
            count += 1
        base = self.root / prefix.rstrip("/")
        if base.is_dir():
            shutil.rmtree(base, ignore_errors=True)
        return count

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".upload-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectInfo(key=key, size=path.stat().st_size)

    def presigned_put_url(self, key: str, expires: timedelta) -> str:
        raise StorageUnavailable("presigned URLs need an S3 object store (set DFS_S3_ENDPOINT)")

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        raise StorageUnavailable("presigned URLs need an S3 object store (set DFS_S3_ENDPOINT)")

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"object folder {self.root} is not writable")


class S3Store:
    """Any S3 API through the MinIO client. The bucket is created on first use. A key is
    checked before any request: an invalid one is a ValueError as in LocalStore (a bug),
    never a StorageUnavailable (which callers retry as an outage)."""

    def __init__(self, settings: Settings) -> None:
        from minio import Minio

        assert settings.s3_endpoint
        self.bucket = settings.s3_bucket
        self.part_size = settings.s3_part_size
        self.parallel_parts = settings.s3_parallel_parts
        self.client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
        # Presigned URLs are signed for the host the client will use; without a separate public
        # endpoint that is the internal one.
        self.presign_client = self.client
        if settings.s3_public_endpoint and settings.s3_public_endpoint != settings.s3_endpoint:
            self.presign_client = Minio(
                settings.s3_public_endpoint,
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key,
                secure=settings.s3_secure,
                region=settings.s3_region
                or "us-east-1",  # no lookup: the public host may be unreachable from here
            )
        self._bucket_checked = False
        self._lock = threading.Lock()

    def _errors(self, exc: Exception, key: str) -> Exception:
        from minio.error import S3Error

        if isinstance(exc, S3Error) and exc.code in ("NoSuchKey", "NoSuchObject", "NoSuchBucket"):
            return NotFound(f"object {key} does not exist")
        # The details (endpoint, port, bucket) are for the operator's log, not for the client.
        log.warning("object storage error on %s: %s: %s", key, type(exc).__name__, exc)
        return StorageUnavailable("object storage could not be reached or refused the request; retry later")

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        with self._lock:
            if self._bucket_checked:
                return
            try:
                if not self.client.bucket_exists(self.bucket):
                    try:
                        self.client.make_bucket(self.bucket)
                    except Exception as exc:  # a concurrent creator may have won
                        if not self.client.bucket_exists(self.bucket):
                            raise exc
            except Exception as exc:
                raise self._errors(exc, self.bucket) from exc
            self._bucket_checked = True

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> int:
        key = _safe_key(key)
        self._ensure_bucket()
        counter = _CountingReader(stream)
        try:
            self.client.put_object(
                self.bucket,
                key,
                counter,  # type: ignore[arg-type]
                length=-1,
                part_size=self.part_size,
                content_type=content_type,
                num_parallel_uploads=self.parallel_parts,
            )
        except (NotFound, StorageUnavailable):
            raise
        except Exception as exc:
            if isinstance(exc, _ReaderAborted):
                raise exc.cause from exc
            raise self._errors(exc, key) from exc
        return counter.count

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> int:
        key = _safe_key(key)
        self._ensure_bucket()
        try:
            self.client.fput_object(
                self.bucket, key, str(path), content_type=content_type, part_size=self.part_size
            )
        except Exception as exc:
            raise self._errors(exc, key) from exc
        return path.stat().st_size

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> int:
        key = _safe_key(key)
        self._ensure_bucket()
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)
        except Exception as exc:
            raise self._errors(exc, key) from exc
        return len(data)

    def get_file(self, key: str, path: Path) -> Path:
        key = _safe_key(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.client.fget_object(self.bucket, key, str(path))
        except Exception as exc:
            raise self._errors(exc, key) from exc
        return path

    def _read(self, key: str, offset: int = 0, length: int = 0) -> bytes:
        """The object's bytes (`length` 0: all of them from `offset`); the connection goes
        back to the pool either way."""
        key = _safe_key(key)
        try:
            resp = self.client.get_object(self.bucket, key, offset=offset, length=length)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except Exception as exc:
            raise self._errors(exc, key) from exc

    def get_bytes(self, key: str) -> bytes:
        return self._read(key)

    def read_head(self, key: str, length: int) -> bytes:
        return self._read(key, offset=0, length=length)

    def open_stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> tuple[ObjectInfo, Iterator[bytes]]:
        key = _safe_key(key)
        try:
            resp = self.client.get_object(self.bucket, key)
        except Exception as exc:
            raise self._errors(exc, key) from exc
        length = resp.headers.get("Content-Length")
        info = ObjectInfo(
            key=key, size=int(length) if length else -1, content_type=resp.headers.get("Content-Type")
        )

        def chunks() -> Iterator[bytes]:
            try:
                yield from resp.stream(chunk_size)
            finally:
                resp.close()
                resp.release_conn()

        return info, chunks()

    def stat(self, key: str) -> ObjectInfo:
        key = _safe_key(key)
        try:
            st = self.client.stat_object(self.bucket, key)
        except Exception as exc:
            raise self._errors(exc, key) from exc
        return ObjectInfo(key=key, size=int(st.size or 0), content_type=st.content_type, etag=st.etag)

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
            return True
        except NotFound:
            return False

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Server-side copy (no bytes through this process); the copy's info."""
        from minio.commonconfig import ComposeSource, CopySource

        src, dst = _safe_key(src), _safe_key(dst)
        try:
            if self.stat(src).size <= 5 * 1024**3:
                self.client.copy_object(self.bucket, dst, CopySource(self.bucket, src))
            else:  # S3 copies more than 5 GiB in parts only
                self.client.compose_object(self.bucket, dst, [ComposeSource(self.bucket, src)])
        except NotFound:
            raise
        except Exception as exc:
            raise self._errors(exc, src) from exc
        return self.stat(dst)

    def delete(self, key: str) -> None:
        key = _safe_key(key)
        try:
            self.client.remove_object(self.bucket, key)
        except Exception as exc:
            err = self._errors(exc, key)
            if not isinstance(err, NotFound):
                raise err from exc

    def delete_prefix(self, prefix: str) -> int:
        count = 0
        for info in list(self.list(prefix)):
            self.delete(info.key)
            count += 1
        return count

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        self._ensure_bucket()
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if obj.object_name and not obj.is_dir:
                    yield ObjectInfo(key=obj.object_name, size=int(obj.size or 0))
        except Exception as exc:
            raise self._errors(exc, prefix) from exc

    def presigned_put_url(self, key: str, expires: timedelta) -> str:
        key = _safe_key(key)
        self._ensure_bucket()
        try:
            return self.presign_client.presigned_put_object(self.bucket, key, expires=expires)
        except Exception as exc:
            raise self._errors(exc, key) from exc

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        key = _safe_key(key)
        try:
            return self.presign_client.presigned_get_object(self.bucket, key, expires=expires)
        except Exception as exc:
            raise self._errors(exc, key) from exc

    def ping(self) -> None:
        try:
            self.client.bucket_exists(self.bucket)
        except Exception as exc:
            log.warning("object storage unreachable: %s: %s", type(exc).__name__, exc)
            raise StorageUnavailable("object storage could not be reached") from exc


class _ReaderAborted(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _CountingReader(io.RawIOBase):
    """Counts bytes read; wraps errors raised by the source so they are not mistaken for S3 errors."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        try:
            data = self.inner.read(size)
        except Exception as exc:
            raise _ReaderAborted(exc) from exc
        self.count += len(data)
        return data


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


_stores: dict[tuple[int, str | None, str], ObjectStore] = {}


def get_store(settings: Settings | None = None) -> ObjectStore:
    """The configured object store (one per process and configuration)."""
    settings = settings or get_settings()
    key = (
        os.getpid(),
        settings.s3_endpoint,
        settings.s3_bucket if settings.s3_endpoint else str(settings.objects_dir),
    )
    store = _stores.get(key)
    if store is None:
        store = S3Store(settings) if settings.s3_endpoint else LocalStore(settings.objects_dir)
        _stores[key] = store
    return store


__all__ = ["LocalStore", "ObjectInfo", "ObjectStore", "S3Store", "get_store", "sha256_file"]
