"""POST /v1/streams refuses what it must not read with a 422 problem, before anything runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(embedded_settings: object) -> TestClient:
    from services.api.app import create_app

    return TestClient(create_app(embedded_settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("concat:/etc/passwd|/etc/hosts", "is not allowed"),
        ("http://127.0.0.1:8080/live.ts", "non-public address"),  # loopback, no allow-list here
        ("rtsp://localhost:8554/cam", "non-public address"),
        ("http://[::ffff:127.0.0.1]/index.m3u8", "non-public address"),
    ],
)
def test_refused_stream_urls_are_422_problems(api: TestClient, url: str, says: str) -> None:
    r = api.post("/v1/streams", json={"url": url})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/stream-url-refused" and says in body["detail"]
    assert body["errors"][0]["field"] == "url"
    assert api.get("/v1/streams").json()["items"] == []


def test_other_bad_requests_are_problems_too(api: TestClient) -> None:
    r = api.post("/v1/streams", json={"url": "rtsp://a:b@10.1.2.3/x", "segment_seconds": 0})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = api.post(
        "/v1/streams", json={"url": "rtsp://example.invalid/x", "callback_url": "http://127.0.0.1/h"}
    )
    assert r.status_code == 422
    assert api.get("/v1/streams/01HZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
    assert api.delete("/v1/streams/01HZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
    assert api.get("/v1/streams/01HZZZZZZZZZZZZZZZZZZZZZZZ/events").status_code == 404


def test_streams_are_in_the_openapi_document(api: TestClient) -> None:
    paths = api.get("/v1/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/v1/streams"])
    assert {"get", "delete"} <= set(paths["/v1/streams/{stream_id}"])
    assert "get" in paths["/v1/streams/{stream_id}/segments"]
    events = paths["/v1/streams/{stream_id}/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]
    assert "application/problem+json" in paths["/v1/streams"]["post"]["responses"]["422"]["content"]


@pytest.fixture
def loopback_api(embedded_settings: object) -> TestClient:
    """The API with loopback allow-listed (no worker runs: streams stay `connecting`)."""
    from services.api.app import create_app

    settings = embedded_settings.model_copy(  # type: ignore[attr-defined]
        update={"stream_allowed_networks": ["127.0.0.0/8"], "max_live_streams_per_tenant": 2}
    )
    return TestClient(create_app(settings))


def test_idempotency_key_replays_conflicts_and_the_live_stream_cap(loopback_api: TestClient) -> None:
    body = {"url": "rtsp://cam:secret-pw@127.0.0.1:8554/lobby", "segment_seconds": 2}
    first = loopback_api.post("/v1/streams", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and "secret-pw" not in first.text
    again = loopback_api.post("/v1/streams", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = loopback_api.post(
        "/v1/streams", json=body | {"segment_seconds": 3}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert loopback_api.post("/v1/streams", json=body).status_code == 201  # the second live stream
    capped = loopback_api.post("/v1/streams", json=body)
    assert capped.status_code == 429 and capped.headers["content-type"].startswith("application/problem+json")
    items = loopback_api.get("/v1/streams").json()["items"]
    assert len(items) == 2 and all(s["url"] == "rtsp://***@127.0.0.1:8554/lobby" for s in items)
    # A stream whose ingest never beat stops at once on DELETE.
    stopped = loopback_api.delete(f"/v1/streams/{first.json()['id']}").json()
    assert stopped["status"] == "stopped" and stopped["ended_at"]
    assert loopback_api.post("/v1/streams", json=body).status_code == 201  # room again


class _Playlists(BaseHTTPRequestHandler):
    """/redirect → a loopback address outside the allow-list; /file.m3u8 names a local file;
    /private.m3u8 a segment on a private address; /ok.m3u8 only relative segments."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        port = self.server.server_address[1]
        pages = {
            "/file.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:///etc/passwd\n",
            "/private.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://10.1.2.3/seg0.ts\n",
            "/key.m3u8": '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="http://192.168.1.1/key"\n#EXTINF:2,\ns.ts\n',
            "/ok.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n",
        }
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{port}/ok.m3u8")
            self.end_headers()
            return
        body = pages.get(self.path, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def playlist_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Playlists)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def one_host_api(embedded_settings: object) -> TestClient:
    """Only 127.0.0.1 itself is allow-listed (127.0.0.2 stands for an internal address)."""
    from services.api.app import create_app

    settings = embedded_settings.model_copy(update={"stream_allowed_networks": ["127.0.0.1/32"]})  # type: ignore[attr-defined]
    return TestClient(create_app(settings))


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/redirect/index.m3u8", "127.0.0.2 is loopback"),
        ("/file.m3u8", "not http(s)"),
        ("/private.m3u8", "10.1.2.3 is private"),
        ("/key.m3u8", "192.168.1.1 is private"),
    ],
)
def test_hls_redirects_and_playlist_uris_are_vetted(
    one_host_api: TestClient, playlist_server: str, path: str, says: str
) -> None:
    r = one_host_api.post("/v1/streams", json={"url": playlist_server + path})
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "/problems/stream-url-refused" and says in r.json()["detail"]
    ok = one_host_api.post("/v1/streams", json={"url": playlist_server + "/ok.m3u8"})
    assert ok.status_code == 201, ok.text


def test_retention_sweeps_what_media_an_ended_stream_left(
    loopback_api: TestClient, embedded_settings: object
) -> None:
    from datetime import timedelta

    from shared.db import Stream, scope_for
    from shared.db.models import utcnow
    from shared.storage import get_store
    from shared.streams.service import expire_stream_media

    settings = embedded_settings
    old = loopback_api.post("/v1/streams", json={"url": "rtsp://127.0.0.1:8554/a"}).json()["id"]
    recent = loopback_api.post("/v1/streams", json={"url": "rtsp://127.0.0.1:8554/b"}).json()["id"]
    store = get_store(settings)  # type: ignore[arg-type]
    for sid in (old, recent):
        loopback_api.delete(f"/v1/streams/{sid}")
        store.put_bytes(f"streams/{sid}/000007.mkv", b"left over")
    with scope_for(settings)() as s:  # type: ignore[arg-type]
        s.get(Stream, old).ended_at = utcnow() - timedelta(days=8)  # type: ignore[union-attr]
    assert expire_stream_media(settings) == 1  # type: ignore[arg-type]
    assert not store.exists(f"streams/{old}/000007.mkv") and store.exists(f"streams/{recent}/000007.mkv")
    assert expire_stream_media(settings) == 0  # type: ignore[arg-type]  # swept once
