"""The webhook receiver shown in docs/integrating.md really verifies signatures."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from shared.webhooks.signing import generate_secret, webhook_headers

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrating.md"


def receiver_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    [block] = [b for b in blocks if "verify_webhook(SECRET" in b]
    assert len([line for line in block.splitlines() if line.strip()]) <= 12, (
        "the doc promises a short receiver"
    )
    return block


def test_the_documented_receiver_accepts_genuine_events_and_refuses_forgeries() -> None:
    secret = generate_secret()
    namespace: dict[str, object] = {}
    exec(compile(receiver_source().replace('"whsec_..."', repr(secret)), str(DOC), "exec"), namespace)
    body = json.dumps(
        {"type": "job.completed", "timestamp": "t", "data": {"id": "J1", "result": None}}
    ).encode()
    headers = webhook_headers([secret], "msg_1", int(time.time()), body)
    with TestClient(namespace["app"]) as c:  # type: ignore[arg-type]
        assert c.post("/dfs", content=body, headers=headers).status_code == 200
        assert c.post("/dfs", content=body.replace(b"J1", b"J2"), headers=headers).status_code == 400
        other = webhook_headers([generate_secret()], "msg_1", int(time.time()), body)
        assert c.post("/dfs", content=body, headers=other).status_code == 400
