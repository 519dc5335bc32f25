"""A real HTTP webhook receiver on loopback, scripted per path, recording every request.

Each path (e.g. `/hook/flaky`) answers from its script in order ("500", "200", "hang",
"410", "503:2" = 503 with Retry-After: 2, "302" = redirect to /hook/redirect-target), then
keeps answering the last entry. "hang" sleeps past the sender's read timeout before answering.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.wait import wait_until


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    hang_s: float = 4.0
    scripts: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str, *script: str) -> str:
        with self.lock:
            self.scripts[path] = list(script) or ["200"]
        return self.base_url + path

    def received(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 60.0) -> list[Received]:
        def enough() -> list[Received] | None:
            got = self.received(path)
            return got if len(got) >= count else None

        return wait_until(
            enough,
            timeout,
            f"{count} requests to {path}",
            detail=lambda: f"{len(self.received(path))} received",
        )

    def next_answer(self, path: str) -> str:
        with self.lock:
            script = self.scripts.get(path, ["404"])
            return script.pop(0) if len(script) > 1 else script[0]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            rec = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with rec.lock:
                rec.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
            answer = rec.next_answer(self.path)
            if answer == "hang":
                time.sleep(rec.hang_s)
                answer = "200"
            code, _, retry_after = answer.partition(":")
            try:
                self.send_response(int(code))
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                if code.startswith("3"):
                    self.send_header("Location", "/hook/redirect-target")
                payload = f"answer {code}".encode()
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender timed out and left

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec = Receiver(server)
    holder["r"] = rec
    threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True).start()
    return rec
