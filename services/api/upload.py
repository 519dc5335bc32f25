"""Streaming multipart upload straight into object storage.

The request body is parsed as it arrives (python-multipart's push parser). The file part's
first bytes are sniffed; anything that is not a supported media type is refused (415) before
a byte is stored. The rest flows through a small bounded queue to a thread that writes the
object (S3 multipart upload, or a local file), so memory stays flat whatever the size and the
client is slowed down, not buffered, when storage is slower than the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from shared.errors import DFSError, InvalidRequest, MalformedRequest, MediaTooLarge, UnsupportedMedia
from shared.jobs.submit import clean_filename
from shared.media.sniff import SNIFF_BYTES, MediaType, sniff
from shared.storage import ObjectStore

CHUNK = 1024 * 1024  # bytes handed to the storage thread at a time
MAX_FIELD_BYTES = 64 * 1024


class ChunkPipe:
    """A file-like object whose `read()` returns bytes pushed by another thread."""

    def __init__(self, depth: int = 4) -> None:
        self._q: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=depth)
        self._buf = bytearray()
        self._eof = False

    # producer side (called from a worker thread via anyio.to_thread)
    def push(self, data: bytes | BaseException | None) -> None:
        self._q.put(data)

    # consumer side (the storage client)
    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buf) < size):
            item = self._q.get()
            if item is None:
                self._eof = True
            elif isinstance(item, BaseException):
                self._eof = True
                raise item
            else:
                self._buf += item
        if size < 0 or size >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
        else:
            with memoryview(self._buf) as view:
                out = bytes(view[:size])
            del self._buf[:size]
        return out


class _UploadAborted(Exception):
    pass


@dataclass
class ParsedUpload:
    media_type: MediaType | None = None
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    stored_key: str | None = None
    #: sha256 of the file part's bytes, computed as they stream past (Idempotency-Key fingerprints).
    sha256: str = ""


class StreamingUpload:
    """Drive the multipart parser over the request body; store the `file` part under a key
    chosen once the type is known (`key_for(media_type)`). With `store=None` the file is only
    checked and hashed, never stored (replaying an idempotent request)."""

    def __init__(self, content_type: str, store: ObjectStore | None, key_for, max_bytes: int) -> None:  # type: ignore[no-untyped-def]
        ctype, params = parse_options_header(content_type)
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            raise UnsupportedMedia("POST /v1/jobs takes multipart/form-data with a `file` part")
        self.parser = MultipartParser(
            params[b"boundary"],
            callbacks={
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )
        self.store = store
        self.key_for = key_for
        self.max_bytes = max_bytes
        self.result = ParsedUpload()
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._part_name: str | None = None
        self._part_filename: str | None = None
        self._field_buf = bytearray()
        self._head = bytearray()  # file bytes before the type is known
        self._pending: list[bytes] = []  # file bytes parsed but not yet handed to storage
        self._pending_size = 0
        self._file_seen = False
        self._file_done = False
        self._error: DFSError | None = None
        self._pipe: ChunkPipe | None = None
        self._writer: threading.Thread | None = None
        self._writer_error: BaseException | None = None
        self._sha = hashlib.sha256()

    # --- parser callbacks (synchronous, inside parser.write) ---------------------------
    def _part_begin(self) -> None:
        self._headers = {}
        self._part_name = None
        self._part_filename = None
        self._field_buf.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._hname).lower()] = bytes(self._hvalue)
        self._hname.clear()
        self._hvalue.clear()

    def _headers_finished(self) -> None:
        disp = self._headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disp)
        name = params.get(b"name")
        self._part_name = name.decode("utf-8", "replace") if name is not None else None
        fname = params.get(b"filename")
        self._part_filename = fname.decode("utf-8", "replace") if fname is not None else None
        if self._part_name == "file":
            if self._file_seen:
                self._fail(
                    InvalidRequest(
                        "only one `file` part is allowed", [{"field": "file", "message": "duplicate"}]
                    )
                )
            self._file_seen = True
            self.result.filename = clean_filename(self._part_filename)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None:
            return
        chunk = data[start:end]
        if self._part_name == "file":
            self._sha.update(chunk)
            self.result.size += len(chunk)
            if self.result.size > self.max_bytes:
                self._fail(MediaTooLarge(f"the upload exceeds the limit of {self.max_bytes} bytes"))
                return
            if self.result.media_type is None:
                self._head += chunk
                if len(self._head) >= SNIFF_BYTES:
                    self._identify()
            else:
                self._queue(chunk)
        else:
            self._field_buf += chunk
            if len(self._field_buf) > MAX_FIELD_BYTES:
                self._fail(InvalidRequest(f"form field {self._part_name!r} is too large"))

    def _part_end(self) -> None:
        if self._error is not None:
            return
        if self._part_name == "file":
            if self.result.media_type is None:
                self._identify()
            self._file_done = True
        elif self._part_name:
            self.result.fields[self._part_name] = self._field_buf.decode("utf-8", "replace")

    # --- helpers -----------------------------------------------------------------------
    def _fail(self, err: DFSError) -> None:
        if self._error is None:
            self._error = err

    def _identify(self) -> None:
        if not self._head:
            self._fail(
                InvalidRequest("the `file` part is empty", [{"field": "file", "message": "empty file"}])
            )
            return
        try:
            self.result.media_type = sniff(bytes(self._head[:SNIFF_BYTES]))
        except UnsupportedMedia as exc:
            self._fail(exc)
            return
        self._queue(bytes(self._head))
        self._head.clear()

    def _queue(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)

    def _start_writer(self) -> None:
        assert self.result.media_type is not None and self.store is not None
        key = self.key_for(self.result.media_type)
        self.result.stored_key = key
        self._pipe = ChunkPipe()
        pipe, store, mime = self._pipe, self.store, self.result.media_type.mime

        def write() -> None:
            try:
                store.put_stream(key, pipe, mime)  # type: ignore[arg-type]
            except BaseException as exc:  # reported to the request handler
                self._writer_error = exc

        self._writer = threading.Thread(target=write, name=f"upload-{key}", daemon=True)
        self._writer.start()

    async def _flush(self, final: bool = False) -> None:
        if self.store is None:  # check-and-hash only
            self._pending.clear()
            self._pending_size = 0
            return
        if self.result.media_type is not None and self._pipe is None and self._error is None:
            self._start_writer()
        if self._pipe is None:
            return
        if self._pending and (final or self._pending_size >= CHUNK):
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            await anyio.to_thread.run_sync(self._pipe.push, data)
        if self._writer_error is not None:
            raise self._writer_error

    async def run(self, body: AsyncIterator[bytes]) -> ParsedUpload:
        """Consume the body. On any failure the partial object is removed and the error raised."""
        try:
            async for chunk in body:
                self._parse(chunk)
                if self._error is not None:
                    raise self._error
                await self._flush()
            self._parse(None)
            if self._error is not None:
                raise self._error
            if not self._file_seen or not self._file_done:
                raise InvalidRequest(
                    "the form has no complete `file` part",
                    [{"field": "file", "message": "a file is required"}],
                )
            await self._flush(final=True)
            await self._finish_writer()
            self.result.sha256 = self._sha.hexdigest()
            return self.result
        except BaseException as exc:
            await self._abort(exc)
            raise

    def _parse(self, chunk: bytes | None) -> None:
        """Feed the parser (`None`: the body ended); a body that is not a well-formed
        multipart form is the client's error (400), never an internal one."""
        try:
            if chunk is None:
                self.parser.finalize()
            else:
                self.parser.write(chunk)
        except FormParserError as exc:
            raise MalformedRequest(f"the multipart body could not be parsed: {exc}"[:300]) from exc

    async def _finish_writer(self) -> None:
        if self._pipe is None or self._writer is None:
            return
        await anyio.to_thread.run_sync(self._pipe.push, None)
        await anyio.to_thread.run_sync(self._writer.join)
        if self._writer_error is not None:
            raise self._writer_error

    async def _abort(self, exc: BaseException) -> None:
        if self._pipe is not None and self._writer is not None and self._writer.is_alive():
            # unblock and fail the writer; drain so a blocked push cannot deadlock
            def stop() -> None:
                assert self._pipe is not None and self._writer is not None
                try:
                    self._pipe._q.put_nowait(_UploadAborted(str(exc)))
                except queue.Full:
                    while self._writer.is_alive():
                        with contextlib.suppress(queue.Empty):
                            self._pipe._q.get_nowait()
                        try:
                            self._pipe._q.put_nowait(_UploadAborted(str(exc)))
                            break
                        except queue.Full:
                            continue
                self._writer.join(timeout=60)

            await anyio.to_thread.run_sync(stop)
        if self.result.stored_key is not None and self.store is not None:
            key = self.result.stored_key
            with contextlib.suppress(Exception):  # best effort: the error being raised matters more
                await anyio.to_thread.run_sync(self.store.delete, key)
