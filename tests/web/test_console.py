"""The web console in a real headless Chromium, against the real API and workers.

A fact-checker drags a clip in, watches it upload and get analysed, and reads why it was
flagged; finds it again in the jobs list; signs in with an API key where the server asks for
one. Each test asserts what that person would see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from minio import Minio
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.integrator.conftest import make_tenant
from tests.support.browser import Browser
from tests.support.receiver import Receiver
from tests.support.seed import create_tenant_key, seed_completed_job
from tests.support.services import S3Gateway, Stack, wait_job
from tests.support.wait import stays_true

pytestmark = pytest.mark.slow

#: records, from the moment it is installed, what a person would have seen change
RECORDER_JS = """
window.__seen = {progress: [], status: []};
const bar = document.getElementById("upload-progress");
new MutationObserver(() => window.__seen.progress.push([Number(bar.value), Number(bar.max)]))
  .observe(bar, {attributes: true, attributeFilter: ["value", "max"]});
window.__statusTimer = setInterval(() => {
  const s = document.getElementById("job-status");
  if (!s) return;
  const seg = document.getElementById("segments-progress");
  const last = window.__seen.status[window.__seen.status.length - 1];
  const now = s.dataset.status + (seg && seg.hasAttribute("value") ? ":" + seg.value + "/" + seg.max : "");
  if (now !== last) window.__seen.status.push(now);
}, 25);
"""


@pytest.fixture
def api(client: httpx.Client) -> httpx.Client:
    return client


@pytest.fixture(scope="module")
def s3(s3_gateway: S3Gateway) -> Minio:
    return Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)


@pytest.fixture
def page(browser: Browser) -> Iterator[Browser]:
    browser.set_size(1280, 900)
    yield browser
    browser.unthrottle()
    errors = [e for e in browser.console_errors() if "favicon" not in e]
    # a 4xx answer the test provoked is logged by Chromium as a failed resource; nothing else may be
    assert all("the server responded with a status of 4" in e for e in errors), errors


def number(element: WebElement, attribute: str) -> float:
    value = element.get_attribute(attribute)
    assert value is not None, f"no {attribute} on {element.tag_name}"
    return float(value)


def upload_through_the_page(page: Browser, stack: Stack, path: Path) -> None:
    page.open(stack.api_url + "/")
    page.wait("#dropzone")
    page.find("#file").send_keys(str(path))
    page.wait_for(lambda: path.name in page.text("#chosen"), what="the chosen file to be shown")


def test_upload_progress_live_status_and_the_verdict_with_its_evidence(
    page: Browser, stack: Stack, api: httpx.Client, face_clip: Path, tmp_path: Path
) -> None:
    upload_through_the_page(page, stack, face_clip)
    assert page.audit() == []
    # keyboard: from the navigation, Tab reaches the file picker, and its focus is visible
    page.js("Array.from(document.querySelectorAll('[data-nav]')).pop().focus()")  # the last nav link
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert page.js("return document.activeElement.id") == "file"
    assert (
        page.js("return getComputedStyle(document.querySelector('label[for=file]')).outlineStyle") == "solid"
    )
    # the skip link lands in the page, not on another route
    url = page.driver.current_url
    page.js("document.querySelector('.skip-link').focus()")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert page.js("return document.activeElement.id") == "main" and page.driver.current_url == url
    page.screenshot("upload", docs=True)
    page.js(RECORDER_JS)
    size = face_clip.stat().st_size
    page.throttle_upload(max(size // 2, 32_000))  # about two seconds on the wire
    page.find("#start-upload").click()

    # the progress bar moves while the bytes go out
    page.wait_for(
        lambda: (
            0.3
            < page.js("const b = document.getElementById('upload-progress'); return b.value / b.max")
            < 0.8
        ),
        what="the upload to be under way",
    )
    assert "sent" in page.text("#upload-progress-text")
    page.screenshot("upload-progress", docs=True)
    page.wait_for(lambda: "#/jobs/" in page.driver.current_url, 30, "the job page")
    page.unthrottle()
    job_id = page.driver.current_url.rsplit("/", 1)[-1]

    progress = page.js("return window.__seen.progress")
    total = progress[-1][1]  # the whole multipart body: the file plus its part headers
    assert size <= total < size + 2048
    values = [v for v, m in progress if m == total]
    inside = sorted({v for v in values if 0 < v < total})
    assert len(inside) >= 3, f"the bar jumped instead of moving: {progress}"
    assert values == sorted(values) and values[-1] == total

    # live status, polled at the server's Retry-After, until the verdict
    page.wait("#verdict-text", timeout=120)
    statuses = page.js("clearInterval(window.__statusTimer); return window.__seen.status")
    assert statuses[-1] == "completed" and any(s.startswith(("queued", "processing")) for s in statuses), (
        statuses
    )
    polls = page.js(
        "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/v1/jobs/' + arguments[0]))"
        ".map(e => e.startTime)",
        job_id,
    )
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert gaps and min(gaps) >= 900, f"polled faster than Retry-After (1 s): {gaps}"

    job = api.get(f"/v1/jobs/{job_id}").json()
    result = job["result"]
    assert page.find("#verdict-text").get_attribute("data-verdict") == result["verdict"]
    assert number(page.find("#verdict-gauge .gauge-fill"), "data-probability") == pytest.approx(
        result["probability"]
    )
    assert number(page.find("#verdict-gauge .gauge-threshold"), "data-threshold") == result["threshold"]
    assert f"{result['probability'] * 100:.1f}%" in page.text("#verdict")
    assert "untrained" in page.text("#model-warning")

    # the timeline: one step per segment, at the segment's probability
    steps = page.find_all("#timeline-chart .segment")
    assert [number(s, "data-probability") for s in steps] == pytest.approx(
        [s["probability"] for s in result["segments"]]
    )
    page.wait_for(
        lambda: len(page.find_all("#timeline-chart .face-dot")) == result["faces_scored"], what="face dots"
    )

    # face thumbnails and heatmaps, fetched from the artifacts endpoint and decoded by the browser
    page.wait_for(lambda: len(page.find_all("#face-grid img[data-state=loaded]")) >= 2, 20, "face images")
    sizes = page.js(
        "return [...document.querySelectorAll('#face-grid img')].map(i => [i.className, i.naturalWidth])"
    )
    assert {cls for cls, w in sizes if w > 0} == {"face-thumb", "face-heatmap"}
    shown = [number(li, "data-probability") for li in page.find_all("#face-grid .face-card")]
    assert shown == sorted(shown, reverse=True), "most suspicious faces first"

    facts = page.text("#media-facts")
    assert "854 × 480" in facts and "25 fps" in facts and "6 s" in facts and "astronaut.mp4" in facts
    page.wait_for(lambda: "srm-efficientnet-b0" in page.text("#model-card"), what="the model card")
    assert "untrained weights" in page.text("#model-card")

    # the full JSON download is the API's document
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    page.driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    page.find("#download-json").click()
    saved = downloads / f"deepfakestream-job-{job_id}.json"
    page.wait_for(lambda: saved.is_file() and saved.stat().st_size > 0, what="the JSON download")
    assert json.loads(saved.read_text()) == job

    assert page.audit() == []
    page.screenshot("job", full_page=True, docs=True)

    # a phone: nothing wider than the screen, the charts redrawn at the phone's width
    page.set_size(390, 844)
    page.wait_for(
        lambda: page.js("return document.documentElement.scrollWidth <= window.innerWidth"),
        what="no sideways scroll",
    )
    page.wait_for(
        lambda: (
            abs(
                page.js("return document.querySelector('#timeline-chart').viewBox.baseVal.width")
                - page.js("return document.querySelector('#timeline .chart-holder').clientWidth")
            )
            < 10
        ),
        what="the timeline redrawn at phone width",
    )
    page.js("document.getElementById('verdict').scrollIntoView()")
    page.screenshot("job-phone", docs=True)


def test_a_file_the_server_refuses_shows_the_servers_message(
    page: Browser, stack: Stack, api: httpx.Client, text_file: Path, tmp_path: Path
) -> None:
    before = api.get("/v1/jobs", params={"limit": 100}).json()["items"]
    # a .txt file is stopped in the browser, with the accepted types named
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.open(stack.api_url + "/")
    page.wait("#dropzone")
    page.find("#file").send_keys(str(notes))
    page.wait_for(lambda: "not a supported file type" in page.text("#upload-error"), what="the type check")
    assert (
        "MP4" in page.text("#upload-error")
        and page.find("#start-upload").get_attribute("disabled") is not None
    )

    # drag and drop: one file at a time, checked like a picked one
    drop = """
const names = arguments[0];
const data = new DataTransfer();
for (const name of names) data.items.add(new File(["x"], name, {type: ""}));
const zone = document.getElementById("dropzone");
zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
const dragging = zone.classList.contains("dragging");
zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
return dragging && !zone.classList.contains("dragging");
"""
    assert page.js(drop, ["a.mp4", "b.mp4"])
    assert "one file at a time" in page.text("#upload-error")
    assert page.js(drop, ["interview.MOV"])
    assert "interview.MOV" in page.text("#chosen") and page.text("#upload-error") == ""
    assert page.find("#start-upload").get_attribute("disabled") is None

    # text named .mp4 passes the browser's check; the server reads the content and refuses it
    expected = httpx.post(
        stack.api_url + "/v1/jobs", files={"file": (text_file.name, text_file.read_bytes())}
    ).json()
    upload_through_the_page(page, stack, text_file)
    page.find("#start-upload").click()
    page.wait_for(lambda: expected["detail"] in page.text("#upload-error"), what="the server's message")
    assert page.find("#upload-error").get_attribute("role") == "alert"
    assert page.find("#upload-status").get_attribute("hidden") is not None
    assert api.get("/v1/jobs", params={"limit": 100}).json()["items"] == before, "no job was created"


def test_jobs_list_filters_pages_and_opens_a_job(
    page: Browser,
    stack: Stack,
    api: httpx.Client,
    pg_database_url: str,
    s3: Minio,
    noface_clip: Path,
    corrupt_clip: Path,
) -> None:
    # a clip without a face and a broken one, through the real pipeline
    for clip in (noface_clip, corrupt_clip):
        r = api.post("/v1/jobs", files={"file": (clip.name, clip.read_bytes())})
        assert r.status_code == 202, r.text
        wait_job(api, r.json()["id"], stack=stack)
    page.open(stack.api_url + "/#/jobs")
    page.wait("#jobs-table")
    rows = page.find_all("#jobs-table tbody tr")
    assert [r.get_attribute("data-job-id") for r in rows] == [
        j["id"] for j in api.get("/v1/jobs").json()["items"]
    ]
    assert "Failed" in rows[0].text and "No face found" in rows[1].text
    assert page.audit() == []
    page.screenshot("jobs", docs=True)

    # filter: only the failed ones
    page.js(
        "const s = document.getElementById('status-filter'); s.value = 'failed'; s.dispatchEvent(new Event('change'))"
    )
    failed = [j["id"] for j in api.get("/v1/jobs", params={"status": "failed"}).json()["items"]]
    assert failed
    page.wait_for(
        lambda: (
            "status=failed" in page.driver.current_url
            and [r.get_attribute("data-job-id") for r in page.find_all("#jobs-table tbody tr")] == failed
        ),
        what="the failed filter",
    )
    # a failed job's page says why, in the server's words
    page.find(f'#jobs-table tr[data-job-id="{failed[0]}"] a').click()
    error = api.get(f"/v1/jobs/{failed[0]}").json()["error"]
    page.wait_for(lambda: error["detail"] in page.text("#job-error"), what="the failure's explanation")
    assert page.find("#job-status").get_attribute("data-status") == "failed" and not page.find_all("#verdict")

    # pages of 10, with the server's cursor
    for _ in range(12):
        seed_completed_job(pg_database_url, s3, "dfs-test", "local", segments=1, faces_per_segment=1)
    expected = [j["id"] for j in api.get("/v1/jobs", params={"limit": 100}).json()["items"]]
    assert len(expected) >= 14

    page.open(stack.api_url + "/#/jobs?limit=10")
    page.wait("#jobs-table")
    ids = lambda: [r.get_attribute("data-job-id") for r in page.find_all("#jobs-table tbody tr")]  # noqa: E731
    assert ids() == expected[:10]
    assert page.find_all("#jobs-table .badge[data-verdict]"), "verdict badges"

    page.find("#older-page").click()
    page.wait_for(lambda: ids() and ids()[0] == expected[10], what="the older page")
    assert ids() == expected[10:20]
    page.find("#newer-page").click()
    page.wait_for(lambda: ids() == expected[:10], what="the newer page again")

    # keyboard: Tab reaches the first job link, and its focus is visible
    page.open(stack.api_url + "/#/jobs?limit=10")
    page.wait("#jobs-table")
    page.js("document.getElementById('refresh-jobs').focus()")
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    page.wait_for(
        lambda: page.js("return document.activeElement.classList.contains('job-link')"),
        what="focus on the first job",
    )
    assert page.js("return getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for(lambda: page.driver.current_url.endswith(f"#/jobs/{expected[0]}"), what="the job page")
    page.wait("#verdict-text")


def test_sign_in_with_an_api_key(page: Browser, keyed_api: Stack, pg_database_url: str, s3: Minio) -> None:
    token = create_tenant_key(pg_database_url, "newsroom-web")
    job = seed_completed_job(pg_database_url, s3, "dfs-auth-tests", "newsroom-web")

    page.open(keyed_api.api_url + f"/#/jobs/{job.id}")
    page.wait("#api-key")
    assert "#/signin" in page.driver.current_url
    page.find("#api-key").send_keys("dfs_not-a-real-key")
    page.find("form button[type=submit]").click()
    page.wait_for(lambda: "not accepted" in page.text("#signin-error"), what="the refusal")
    assert page.js("return sessionStorage.getItem('dfs.apiKey')") is None
    assert page.audit() == []
    page.screenshot("signin", docs=True)

    field = page.find("#api-key")
    field.clear()
    field.send_keys(token)
    page.find("form button[type=submit]").click()
    # back where the person wanted to go, images fetched with the key
    page.wait_for(lambda: page.driver.current_url.endswith(f"#/jobs/{job.id}"), what="the job page")
    page.wait_for(
        lambda: len(page.find_all("#face-grid img[data-state=loaded]")) == len(job.artifacts),
        what="face images fetched with the key",
    )
    assert page.js("return sessionStorage.getItem('dfs.apiKey')") == token
    # the served (bundled) model card: its caution, what it was trained on, what it measured
    page.wait_for(lambda: page.find_all("#model-metrics table"), what="the metrics table")
    card = httpx.get(keyed_api.api_url + "/v1/model", headers={"Authorization": f"Bearer {token}"}).json()
    assert card["warning"] in page.text("#model-card-warning")
    assert card["training"]["description"] in page.text("#model-training")
    rows = page.find_all("#model-metrics tr.metric-row")
    assert len(rows) == sum(
        1 for m in card["metrics"].values() for v in m.values() if isinstance(v, dict) and "f1" in v
    )
    assert "seeded" in page.text("#model-mismatch"), (
        "the job was scored by another checkpoint than the served one"
    )
    assert page.audit() == []
    assert page.js("return localStorage.length") == 0, "the key is kept for this tab only"

    page.find("#sign-out").click()
    page.wait("#api-key")
    assert page.js("return sessionStorage.getItem('dfs.apiKey')") is None
    assert "Signed out" in page.text("#flash")


def test_delete_a_job(
    page: Browser, stack: Stack, api: httpx.Client, pg_database_url: str, s3: Minio
) -> None:
    assert api.get("/v1/config").json()["features"]["delete_job"], "the API must serve DELETE /v1/jobs/{id}"
    job = seed_completed_job(pg_database_url, s3, "dfs-test", "local", segments=1)
    page.open(stack.api_url + f"/#/jobs/{job.id}")
    page.wait("#delete-job").click()
    page.wait("dialog[open] #confirm-delete")
    assert page.find("#purge").is_selected()
    page.find("#confirm-delete").click()
    page.wait_for(lambda: page.driver.current_url.endswith("#/jobs"), what="the jobs list")
    # the summary reads "Loading jobs…" until the list has been fetched and drawn
    page.wait_for(
        lambda: (t := page.text("#jobs-summary")) and "Loading" not in t, what="the jobs list loaded"
    )
    assert "deleted" in page.text("#flash")

    def listed() -> list[str | None]:
        return [r.get_attribute("data-job-id") for r in page.find_all("#jobs-table tbody tr")]

    stays_true(lambda: job.id not in listed(), 1.0, "the deleted job missing from the jobs list")
    assert api.get(f"/v1/jobs/{job.id}").status_code == 404


def test_webhook_deliveries_are_shown_as_they_are_tried(
    page: Browser, auth_stack: Stack, receiver: Receiver, face_image: Path
) -> None:
    """Options on the upload page reach the job; every delivery attempt of its webhook appears
    on the job page as the webhooks worker makes it (here: a 500, then a 200 after backoff)."""
    tenant = make_tenant(auth_stack, "newsroom-hooks")
    hook = receiver.url("/hook/console", "500", "200")
    page.open(auth_stack.api_url + "/")
    page.js("sessionStorage.setItem('dfs.apiKey', arguments[0])", tenant.key)
    page.open(auth_stack.api_url + "/#/")
    page.wait("#dropzone")
    page.find("#file").send_keys(str(face_image))
    page.find(".options summary").click()
    page.find("#callback-url").send_keys(hook)
    page.find("#metadata").send_keys('{"case": "web-1"}')
    page.find("#start-upload").click()
    page.wait("#verdict-text", timeout=60)
    assert '{"case":"web-1"}' in page.text("#media-facts")

    page.wait_for(
        lambda: page.find_all("#deliveries .delivery[data-status=succeeded]"), 30, "the delivery to succeed"
    )
    section = page.text("#deliveries")
    assert "job.completed" in section and hook in section
    codes = [r.find_elements("css selector", "td")[2].text for r in page.find_all("#deliveries tbody tr")]
    assert codes == ["500", "200"]
    assert len(receiver.received("/hook/console")) == 2
    assert page.audit() == []
