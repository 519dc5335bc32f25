"""A small typed client for the DeepfakeStream HTTP API, and webhook verification.

    from shared.client import Client
    with Client("https://dfs.example.com", api_key="dfs_...") as dfs:
        job = dfs.wait(dfs.submit("clip.mp4", callback_url="https://me.example.com/hook")["id"])
        print(job["result"]["verdict"])

`submit` sends an `Idempotency-Key` (a new one per call unless given) and retries on
connection errors, 409 (still in flight), 429 and 503 honouring `Retry-After`: a retry can
never create a second job. Errors come back as `APIError` carrying the RFC 9457 problem.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

import httpx

from shared.errors import DFSError
from shared.webhooks.signing import DEFAULT_TOLERANCE_S, WebhookVerificationError, verify

__all__ = ["APIError", "Client", "Job", "WebhookEvent", "WebhookVerificationError", "verify_webhook"]

JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
STREAM_TERMINAL: frozenset[str] = frozenset({"ended", "failed", "stopped"})
RETRY_STATUSES = frozenset({409, 429, 502, 503, 504})


class Job(TypedDict, total=False):
    id: str
    status: JobStatus
    created_at: str
    updated_at: str
    completed_at: str | None
    media: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    callback_url: str | None
    metadata: dict[str, Any]


class WebhookEvent(TypedDict):
    type: Literal["job.completed", "job.failed", "job.cancelled"]
    timestamp: str
    data: Job


class APIError(DFSError):
    """A problem+json answer (or a transport failure) from the API."""

    def __init__(self, status: int, problem: Mapping[str, Any], retry_after: float | None = None) -> None:
        super().__init__(str(problem.get("detail") or problem.get("title") or f"HTTP {status}"))
        self.status = status  # type: ignore[misc]
        self.title = str(problem.get("title") or "HTTP error")  # type: ignore[misc]
        self.problem = dict(problem)
        self.retry_after = retry_after
        slug = str(problem.get("type", "")).rsplit("/", 1)[-1]
        self.slug = slug or "http-error"  # type: ignore[misc]
        self.exit_code = next((c.exit_code for c in _subclasses(DFSError) if c.slug == slug), 1)  # type: ignore[misc]  # noqa: E501


def _subclasses(cls: type[DFSError]) -> Iterator[type[DFSError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def verify_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> WebhookEvent:
    """The event in a webhook request, after checking its signature (made with your tenant's
    `whsec_...` secret over exactly these bytes) and that its timestamp is fresh. Raises
    `WebhookVerificationError` otherwise. Deduplicate on the `webhook-id` header."""
    verify(secret, headers, body, tolerance_s=tolerance_s)
    event: WebhookEvent = json.loads(body)
    return event


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else default


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"user-agent": "deepfakestream-client/1"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self.retries = retries
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- plumbing -------------------------------------------------------------------------
    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:300]}
        if not isinstance(problem, dict):
            problem = {"title": response.reason_phrase}
        retry = response.headers.get("retry-after", "")
        raise APIError(response.status_code, problem, float(retry) if retry.isdigit() else None)

    def _send_with_retries(self, make_request: Any) -> httpx.Response:
        """Retry transient answers; only used where the request is idempotent."""
        delay = 1.0
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response: httpx.Response = make_request()
            except httpx.TransportError as exc:
                if last:
                    raise APIError(
                        503, {"title": "Service unreachable", "detail": f"{type(exc).__name__}: {exc}"}
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                time.sleep(min(_retry_after(response, delay), 60.0))
                delay = min(delay * 2, 30.0)
                continue
            return self._check(response)
        raise AssertionError("unreachable")

    # --- jobs -----------------------------------------------------------------------------
    def submit(
        self,
        path: str | Path,
        *,
        callback_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        presigned: bool = False,
    ) -> Job:
        """Upload a file and start its job: streamed through the API, or (`presigned`, for large
        files) PUT straight to object storage with a presigned URL. A retry after a network
        error or 5xx reuses the same Idempotency-Key, so it never makes a second job."""
        path = Path(path)
        key = idempotency_key or str(uuid.uuid4())
        if presigned:
            body: dict[str, Any] = {"upload_id": self._upload(path), "metadata": dict(metadata or {})}
            if callback_url:
                body["callback_url"] = callback_url
            job: Job = self._send_with_retries(
                lambda: self.http.post("/v1/jobs", json=body, headers={"idempotency-key": key})
            ).json()
            return job
        data = {
            k: v
            for k, v in {
                "callback_url": callback_url,
                "metadata": json.dumps(metadata) if metadata else None,
            }.items()
            if v
        }

        def post() -> httpx.Response:
            with open(path, "rb") as fh:
                return self.http.post(
                    "/v1/jobs",
                    files={"file": (path.name, fh, "application/octet-stream")},
                    data=data,
                    headers={"idempotency-key": key},
                )

        job = self._send_with_retries(post).json()
        return job

    def _upload(self, path: Path) -> str:
        """PUT the file to a fresh presigned URL; returns the upload's id."""
        upload = self._check(
            self.http.post("/v1/uploads", json={"filename": path.name, "size_bytes": path.stat().st_size})
        ).json()
        with open(path, "rb") as fh, httpx.Client(timeout=self.http.timeout) as s3:
            put = s3.put(upload["url"], content=fh, headers={"content-length": str(path.stat().st_size)})
        if not put.is_success:
            raise APIError(
                put.status_code, {"title": "Upload to object storage failed", "detail": put.text[:300]}
            )
        return str(upload["upload_id"])

    def get(self, job_id: str) -> Job:
        job: Job = self._send_with_retries(lambda: self.http.get(f"/v1/jobs/{job_id}")).json()
        return job

    def list_jobs(
        self, *, status: JobStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        page: dict[str, Any] = self._check(self.http.get("/v1/jobs", params=params)).json()
        return page

    def wait(self, job_id: str, *, timeout: float = 600.0, max_poll_s: float = 5.0) -> Job:
        """Poll until the job ends, as often as the server's Retry-After suggests."""
        deadline = time.monotonic() + timeout
        while True:
            response = self._send_with_retries(lambda: self.http.get(f"/v1/jobs/{job_id}"))
            job: Job = response.json()
            if job["status"] in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout:.0f} s")
            time.sleep(min(_retry_after(response, 1.0), max_poll_s))

    def delete(self, job_id: str, *, purge: bool = False) -> Job | None:
        """Cancel the job and delete its media; with `purge`, remove the record too (None)."""
        response = self._check(
            self.http.delete(f"/v1/jobs/{job_id}", params={"purge": "true"} if purge else None)
        )
        if response.status_code == 204:
            return None
        job: Job = response.json()
        return job

    def deliveries(self, job_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._check(self.http.get(f"/v1/jobs/{job_id}/deliveries")).json()[
            "items"
        ]
        return items

    def redeliver(self, job_id: str, delivery_id: str | None = None) -> list[dict[str, Any]]:
        body = {"delivery_id": delivery_id} if delivery_id else None
        items: list[dict[str, Any]] = self._check(
            self.http.post(f"/v1/jobs/{job_id}/deliveries/redeliver", json=body)
        ).json()["items"]
        return items

    # --- live streams (docs/streams.md) -----------------------------------------------------
    def create_stream(
        self,
        url: str,
        *,
        callback_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        segment_seconds: float | None = None,
        max_duration_s: float | None = None,
        alert_threshold: float | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Start watching a live stream; a retry reuses the same Idempotency-Key."""
        key = idempotency_key or str(uuid.uuid4())
        body = {
            k: v
            for k, v in {
                "url": url,
                "callback_url": callback_url,
                "metadata": dict(metadata) if metadata else None,
                "segment_seconds": segment_seconds,
                "max_duration_s": max_duration_s,
                "alert_threshold": alert_threshold,
            }.items()
            if v is not None
        }
        stream: dict[str, Any] = self._send_with_retries(
            lambda: self.http.post("/v1/streams", json=body, headers={"idempotency-key": key})
        ).json()
        return stream

    def get_stream(self, stream_id: str) -> dict[str, Any]:
        stream: dict[str, Any] = self._send_with_retries(
            lambda: self.http.get(f"/v1/streams/{stream_id}")
        ).json()
        return stream

    def stop_stream(self, stream_id: str) -> dict[str, Any]:
        stream: dict[str, Any] = self._check(self.http.delete(f"/v1/streams/{stream_id}")).json()
        return stream

    def stream_events(self, stream_id: str, *, last_event_id: int = 0) -> Iterator[dict[str, Any]]:
        """The stream's server-sent events as `{"id", "event", "data"}` until its final status;
        a dropped connection is resumed with Last-Event-ID (nothing lost, nothing twice)."""
        last = last_event_id
        while True:
            try:
                with self.http.stream(
                    "GET",
                    f"/v1/streams/{stream_id}/events",
                    headers={"last-event-id": str(last)},
                    timeout=httpx.Timeout(self.http.timeout.connect, read=60.0),
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._check(response)
                    fields: dict[str, str] = {}
                    for line in response.iter_lines():
                        if line == "":
                            if "event" in fields:
                                last = int(fields.get("id", last))
                                event = {
                                    "id": last,
                                    "event": fields["event"],
                                    "data": json.loads(fields["data"]),
                                }
                                yield event
                                if event["event"] == "status" and event["data"]["status"] in STREAM_TERMINAL:
                                    return
                            fields = {}
                        elif not line.startswith(":") and ":" in line:
                            name, _, value = line.partition(":")
                            fields[name] = value[1:] if value.startswith(" ") else value
                    return  # the server ended the response: the stream has finished
            except (httpx.TransportError, httpx.RemoteProtocolError):
                time.sleep(1.0)
