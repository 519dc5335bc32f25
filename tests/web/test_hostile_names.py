"""A file name is text wherever the console shows it (issue 11, defect 10): markup in a name,
sent through the multipart or the presigned path, is displayed as written and never parsed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.browser import Browser
from tests.support.services import Stack

pytestmark = pytest.mark.slow

NAME = "<img src=x onerror=window.__xss=1>.jpg"


def test_markup_in_a_file_name_renders_as_text(browser: Browser, stack: Stack, face_image: Path) -> None:
    with httpx.Client(base_url=stack.api_url, timeout=60) as api:
        multipart = api.post("/v1/jobs", files={"file": (NAME, face_image.read_bytes())})
        assert multipart.status_code == 202, multipart.text
        up = api.post("/v1/uploads", json={"filename": "../../" + NAME}).json()
        assert httpx.put(up["url"], content=face_image.read_bytes()).status_code == 200
        presigned = api.post("/v1/jobs", json={"upload_id": up["upload_id"]})
        assert presigned.status_code == 202, presigned.text
    jobs = (multipart.json(), presigned.json())
    assert [j["media"]["filename"] for j in jobs] == [NAME, NAME], "one sanitiser: the last path component"

    browser.set_size(1280, 900)
    browser.open(stack.api_url + "/#/jobs?limit=100")
    browser.wait("#jobs-table")
    for job in jobs:
        row = browser.wait(f'#jobs-table tr[data-job-id="{job["id"]}"]')
        assert NAME in row.text
    for job in jobs:
        browser.open(stack.api_url + f"/#/jobs/{job['id']}")
        browser.wait_for(lambda: NAME in browser.text("body"), what="the name, as text")
    assert browser.js("return window.__xss === undefined") is True
    assert browser.js("return document.querySelectorAll('img[src=\"x\"]').length") == 0
